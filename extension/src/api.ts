import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A gateway as the server extension reports it (no API key ever reaches the browser). */
export interface IGateway {
  id: string;
  base_url: string;
  pid: number;
  port: number;
  engine?: string;
  device?: string;
  version?: string;
  started_at?: number;
  ready?: boolean;
  status?: string;
  error?: string;
  requests_running?: number;
  requests_waiting?: number;
  models?: { id: string; modality?: string; status?: string }[];
  adapters?: string[];
  batches_active?: number | null;
  training_active?: number | null;
  batches?: IJob[];
  trainings?: IJob[];
}

/** A batch job (id) or a training job (adapter name) with its progress. */
export interface IJob {
  id: string;
  status: string;
  done: number;
  total: number;
}

export interface ITemplate {
  name: string;
  title: string;
  description: string;
  filename: string;
}

/** Call the tokenfactory server extension; errors carry the API's message. */
export async function requestAPI<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'tokenfactory', 'api', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: { message: text } };
  }
  if (!response.ok) {
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return data as T;
}

export async function listGateways(): Promise<IGateway[]> {
  return (await requestAPI<{ data: IGateway[] }>('gateways')).data;
}

export async function createNotebook(
  template: string,
  directory: string,
  baseUrl?: string
): Promise<string> {
  const body = JSON.stringify({ template, directory, base_url: baseUrl ?? null });
  const result = await requestAPI<{ path: string }>('notebooks', { method: 'POST', body });
  return result.path;
}
