import { Widget } from '@lumino/widgets';

import { IGateway, IJob, listGateways } from './api';
import { tokenFactoryIcon } from './icon';

const REFRESH_MS = 2000;

export interface ISidebarActions {
  open(template: string, gateway: IGateway): void;
  /** Show a job's monitor widget (``batch``: BatchMonitor, ``training``: TrainingMonitor). */
  monitor(kind: 'batch' | 'training', id: string, gateway: IGateway): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  for (const child of children) {
    if (child !== null) {
      node.append(child);
    }
  }
  return node;
}

function fact(label: string, value: string | number | null | undefined): HTMLElement | null {
  if (value === null || value === undefined) {
    return null;
  }
  return el('div', 'tf-fact', el('span', 'tf-fact-label', label), el('span', 'tf-fact-value', String(value)));
}

/** A model id that may break only after its organisation ("org/" then "name"), never mid-word. */
function modelId(id: string): HTMLElement {
  const slash = id.lastIndexOf('/');
  const name = el('span', 'tf-model-name', id.slice(slash + 1));
  name.title = id;
  if (slash < 0) {
    return el('span', 'tf-model-id', name);
  }
  return el('span', 'tf-model-id', el('span', 'tf-model-org', id.slice(0, slash + 1)), document.createElement('wbr'), name);
}

/** The left sidebar: every gateway running on this machine, refreshed while visible. */
export class GatewaySidebar extends Widget {
  private _list: HTMLElement;
  private _status: HTMLElement;
  private _timer: number | null = null;
  private _shown = '';
  private _actions: ISidebarActions;

  constructor(actions: ISidebarActions) {
    super();
    this._actions = actions;
    this.id = 'tokenfactory-sidebar';
    this.addClass('tf-sidebar');
    this.title.icon = tokenFactoryIcon;
    this.title.caption = 'Token Factory';
    const header = el('div', 'tf-sidebar-header', el('h2', 'tf-sidebar-title', 'Token Factory'));
    this._status = el('div', 'tf-sidebar-status', 'Looking for gateways…');
    this._list = el('div', 'tf-gateways');
    this.node.append(header, this._status, this._list);
  }

  protected onAfterShow(): void {
    void this.refresh();
    this._timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  protected onBeforeHide(): void {
    this._stop();
  }

  dispose(): void {
    this._stop();
    super.dispose();
  }

  private _stop(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  async refresh(): Promise<void> {
    try {
      const gateways = await listGateways();
      this._status.textContent = gateways.length
        ? `${gateways.length} gateway${gateways.length > 1 ? 's' : ''} running`
        : 'No gateway running. Start one in a notebook with tf.serve().';
      this._status.classList.remove('tf-sidebar-error');
      const snapshot = JSON.stringify(gateways);
      if (snapshot !== this._shown) {
        // re-render only on change, so a button under the pointer stays put
        this._shown = snapshot;
        this._list.replaceChildren(...gateways.map(g => this._card(g)));
      }
    } catch (error) {
      this._status.textContent = `Cannot list gateways: ${(error as Error).message}`;
      this._status.classList.add('tf-sidebar-error');
    }
  }

  /** The adapters, one per line (a name never cut: it wraps only at its own breaks). */
  private _adapters(g: IGateway): HTMLElement {
    const names = g.adapters ?? [];
    if (!names.length) {
      return fact('adapters', 'none') as HTMLElement;
    }
    const items = names.map(name => {
      const item = el('li', 'tf-adapter', el('span', 'tf-adapter-name', name));
      item.dataset.adapter = name;
      item.title = name;
      return item;
    });
    return el('div', 'tf-adapters', el('div', 'tf-fact-label', `adapters (${names.length})`), el('ul', 'tf-adapter-list', ...items));
  }

  /** The latest jobs of one kind, each with a button that shows its monitor in a notebook. */
  private _jobs(g: IGateway, kind: 'batch' | 'training', label: string, jobs: IJob[]): HTMLElement | null {
    if (!jobs.length) {
      return null;
    }
    const rows = jobs.map(job => {
      const open = el('button', 'tf-job-open', 'Monitor');
      open.title = `Show the ${kind === 'batch' ? 'BatchMonitor' : 'TrainingMonitor'} of ${job.id} in a notebook`;
      open.onclick = () => this._actions.monitor(kind, job.id, g);
      const progress = job.total ? `${job.done}/${job.total}` : '';
      const item = el(
        'li',
        `tf-job tf-job-${job.status}`,
        el('div', 'tf-job-id', job.id),
        el('div', 'tf-job-row', el('span', 'tf-job-meta', [job.status, progress].filter(Boolean).join(' · ')), open)
      );
      item.dataset.job = job.id;
      item.dataset.kind = kind;
      return item;
    });
    return el('div', 'tf-jobs', el('div', 'tf-fact-label', label), el('ul', 'tf-job-list', ...rows));
  }

  private _card(g: IGateway): HTMLElement {
    const state = g.error ? 'unreachable' : g.ready ? 'ready' : (g.status ?? 'loading');
    const models = (g.models ?? []).map(m => {
      const item = el(
        'li',
        `tf-model tf-model-${m.status ?? 'unknown'}`,
        modelId(m.id),
        el('span', 'tf-model-meta', [m.modality, m.status].filter(Boolean).join(' · '))
      );
      item.dataset.model = m.id;
      return item;
    });
    const button = (label: string, template: string): HTMLButtonElement => {
      const b = el('button', 'jp-Button jp-mod-styled jp-mod-accept tf-open', label);
      b.dataset.template = template;
      b.onclick = () => this._actions.open(template, g);
      return b;
    };
    return el(
      'div',
      'tf-gateway',
      el('div', 'tf-gateway-head', el('span', `tf-dot tf-dot-${state}`, ''), el('code', 'tf-gateway-url', g.base_url)),
      g.error ? el('div', 'tf-sidebar-error', g.error) : null,
      fact('state', state),
      fact('engine', g.engine ? [g.engine, g.device].filter(Boolean).join(' · ') : g.device),
      fact('requests in flight', g.error ? null : `${g.requests_running ?? 0} running · ${g.requests_waiting ?? 0} waiting`),
      fact('batch jobs in progress', g.batches_active ?? (g.error ? null : '—')),
      fact('training jobs in progress', g.training_active ?? (g.error ? null : '—')),
      models.length ? el('div', 'tf-fact-label', 'models') : null,
      models.length ? el('ul', 'tf-models', ...models) : null,
      g.error ? null : this._adapters(g),
      this._jobs(g, 'batch', 'batch jobs', g.batches ?? []),
      this._jobs(g, 'training', 'training jobs', g.trainings ?? []),
      el('div', 'tf-gateway-actions', button('Playground', 'playground'), button('Model Library', 'model-library'))
    );
  }
}
