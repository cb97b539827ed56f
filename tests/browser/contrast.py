"""Text contrast measured in the page, from computed styles (WCAG 2 relative luminance).

For every visible element with text of its own under a root (HTML text and SVG text), the text
colour is composited over the backgrounds of its ancestors (translucent ones included) up to
the first opaque one; disabled controls are left out, as WCAG leaves them out."""

from __future__ import annotations

MEASURE = """
([selector, minimum]) => {
  const parse = (value) => {
    // rgb()/rgba() with 0-255 channels, or color(srgb r g b / a) with 0-1 ones (color-mix)
    const m = value.match(/rgba?\\(([^)]+)\\)/) || value.match(/color\\(srgb ([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    const scale = value.startsWith("color(") ? 255 : 1;
    return {
      r: parts[0] * scale, g: parts[1] * scale, b: parts[2] * scale,
      a: parts.length > 3 ? parts[3] : 1,
    };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const unparsed = new Set();
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const value = getComputedStyle(node).backgroundColor;
      const bg = parse(value);
      if (!bg && value !== "transparent") unparsed.add(value);
      if (bg && bg.a > 0) {
        layers.push(bg);
        if (bg.a >= 1) break;
      }
    }
    let color = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const found = [];
  let measured = 0;
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll("*")) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || el.closest("option, title, style, script")) continue;
      if (el.closest(":disabled, [disabled]")) continue;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility !== "visible" || !box.width || !box.height) continue;
      if (!el.checkVisibility || !el.checkVisibility({ opacityProperty: true })) continue;
      const svg = el instanceof SVGElement;
      const ink = parse(svg ? style.fill : style.color);
      if (!ink) {
        found.push(`unreadable colour ${svg ? style.fill : style.color} on ${el.tagName}`);
        continue;
      }
      const bg = background(svg ? el.ownerSVGElement || el : el);
      const value = ratio(over(ink, bg), bg);
      measured += 1;
      if (value < minimum) {
        const name = el.className?.baseVal ?? el.className;
        const text = el.textContent.trim().slice(0, 40);
        found.push(`${value.toFixed(2)}:1 ${el.tagName.toLowerCase()}.${name} "${text}"`);
      }
    }
  }
  for (const value of unparsed) found.push(`unreadable background ${value}`);
  return { measured, found };
}
"""


def low_contrast(page, selector: str, minimum: float = 4.5) -> tuple[int, list[str]]:
    """(how many text elements were measured, those below ``minimum``:1) under ``selector``."""
    result = page.evaluate(MEASURE, [selector, minimum])
    return result["measured"], result["found"]
