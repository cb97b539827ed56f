import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { createNotebook, IGateway, listGateways } from './api';
import { TEMPLATE_ICONS, tokenFactoryIcon } from './icon';
import { GatewaySidebar } from './sidebar';
import { batchCell, DEFAULT_MODEL, LOAD_CELL, monitorCell, TEMPLATES } from './templates';

const CATEGORY = 'Token Factory';
const INSERT_BATCH = 'tokenfactory:insert-batch-cell';

async function firstChatModel(): Promise<string> {
  try {
    for (const g of await listGateways()) {
      const chat = (g.models ?? []).find(m => m.modality === 'chat' && m.status === 'loaded');
      if (chat) {
        return chat.id;
      }
    }
  } catch {
    // no server extension answer: fall back to the embedded default
  }
  return DEFAULT_MODEL;
}

/** Whether any cell already imports or loads tokenfactory (which registers %%tf_batch). */
function mentionsTokenfactory(panel: NotebookPanel): boolean {
  const cells = panel.content.model?.sharedModel.cells ?? [];
  return cells.some(
    cell => cell.cell_type === 'code' && /(import\s+tokenfactory|load_ext\s+tokenfactory)/.test(cell.getSource())
  );
}

/** A code cell with ``source`` below the active cell (or in it, when it is an empty code cell). */
function insertCode(panel: NotebookPanel, source: string): void {
  const notebook = panel.content;
  const active = notebook.activeCell;
  const empty = active && active.model.type === 'code' && active.model.sharedModel.getSource().trim() === '';
  if (!empty) {
    NotebookActions.insertBelow(notebook);
  }
  NotebookActions.changeCellType(notebook, 'code');
  notebook.activeCell?.model.sharedModel.setSource(source);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'tokenfactory:plugin',
  description: 'Token Factory: gateways sidebar, notebook templates, batch cell command',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [ILauncher, ICommandPalette, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    tracker: INotebookTracker,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const { commands } = app;

    const openTemplate = async (template: string, gateway?: IGateway): Promise<void> => {
      try {
        const directory = browser?.model.path ?? '';
        const path = await createNotebook(template, directory, gateway?.base_url);
        await commands.execute('docmanager:open', { path, factory: 'Notebook' });
      } catch (error) {
        await showErrorMessage('Token Factory', (error as Error).message);
      }
    };

    for (const t of TEMPLATES) {
      const id = `tokenfactory:new-${t.name}`;
      commands.addCommand(id, {
        label: args => (args.isLauncher ? t.title : `New ${t.title} Notebook`),
        caption: t.caption,
        icon: args => (args.isPalette ? undefined : (TEMPLATE_ICONS[t.name] ?? tokenFactoryIcon)),
        execute: () => openTemplate(t.name)
      });
      launcher?.add({ command: id, category: CATEGORY, rank: t.rank });
      palette?.addItem({ command: id, category: CATEGORY });
    }

    commands.addCommand(INSERT_BATCH, {
      label: 'Insert Batch Submission Cell',
      caption: 'Insert a %%tf_batch cell below the active cell',
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const panel = tracker.currentWidget;
        if (!panel) {
          return;
        }
        const model = await firstChatModel();
        // a cell magic must open its cell: in a notebook that never loads tokenfactory, a cell
        // above it loads the extension that defines %%tf_batch
        if (!mentionsTokenfactory(panel)) {
          insertCode(panel, LOAD_CELL);
        }
        insertCode(panel, batchCell(model));
      }
    });

    const showMonitor = async (kind: 'batch' | 'training', id: string, gateway: IGateway): Promise<void> => {
      try {
        let panel: NotebookPanel | null = tracker.currentWidget;
        if (!panel) {
          panel = (await commands.execute('notebook:create-new', {
            cwd: browser?.model.path ?? '',
            kernelName: 'python3'
          })) as NotebookPanel;
        }
        await panel.context.ready;
        shell.activateById(panel.id);
        insertCode(panel, monitorCell(kind, id, gateway.base_url));
        await panel.sessionContext.ready;
        await NotebookActions.run(panel.content, panel.sessionContext);
      } catch (error) {
        await showErrorMessage('Token Factory', (error as Error).message);
      }
    };
    palette?.addItem({ command: INSERT_BATCH, category: CATEGORY });
    app.contextMenu.addItem({ command: INSERT_BATCH, selector: '.jp-Notebook', rank: 60 });

    const sidebar = new GatewaySidebar({
      open: (template, g) => void openTemplate(template, g),
      monitor: (kind, id, g) => void showMonitor(kind, id, g)
    });
    shell.add(sidebar, 'left', { rank: 600 });
  }
};

export default plugin;
