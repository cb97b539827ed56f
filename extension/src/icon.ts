import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 20V9l5 3V9l5 3V4h3v8h2V6h3v14z"/>
    <circle cx="9" cy="16" r="1.3" fill="#fff"/><circle cx="14" cy="16" r="1.3" fill="#fff"/>
  </g>
</svg>`;

export const tokenFactoryIcon = new LabIcon({ name: 'tokenfactory:icon', svgstr: svg });
