import { LabIcon } from '@jupyterlab/ui-components';

/** A 24x24 icon in JupyterLab's themable icon colour (``jp-icon3``). */
function icon(name: string, body: string): LabIcon {
  const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">${body}</g>
</svg>`;
  return new LabIcon({ name: `tokenfactory:${name}`, svgstr });
}

/** The factory: the sidebar's tab. */
export const tokenFactoryIcon = icon(
  'icon',
  '<path d="M3 20V9l5 3V9l5 3V4h3v8h2V6h3v14z"/>'
);

/** A speech bubble: the Playground. */
export const playgroundIcon = icon(
  'playground',
  '<path d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 5v2h10V8zm0 4v2h7v-2z"/>'
);

/** Stacked boxes: the Model Library. */
export const modelLibraryIcon = icon(
  'model-library',
  '<path d="M12 2l9 4.5-9 4.5-9-4.5zm-9 9l9 4.5 9-4.5v3L12 18.5 3 14zm0 5l9 4.5 9-4.5v2.5L12 23l-9-4.5z"/>'
);

/** A list of lines: a batch job. */
export const batchIcon = icon(
  'batch',
  '<path d="M3 4h3v3H3zm5 0h13v3H8zM3 10.5h3v3H3zm5 0h13v3H8zM3 17h3v3H3zm5 0h13v3H8z"/>'
);

/** A falling curve: LoRA training (the loss). */
export const trainingIcon = icon(
  'lora-training',
  '<path d="M3 3h2v16h16v2H3z"/><path d="M7 6c2 7 5 9 13 10v-2.2c-6.6-.9-9-2.6-10.6-8.3z"/>'
);

/** The launcher icon of each notebook template. */
export const TEMPLATE_ICONS: Record<string, LabIcon> = {
  playground: playgroundIcon,
  'model-library': modelLibraryIcon,
  'batch-job': batchIcon,
  'lora-training': trainingIcon
};
