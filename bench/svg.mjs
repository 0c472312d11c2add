// A small hand-written SVG line chart: stacked panels sharing a time axis and
// one legend. No dependencies.

const xml = (text) =>
  String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

/** A step of 1, 2, 2.5 or 5 times a power of ten giving about `target` intervals up to `max`. */
export function niceStep(max, target = 6) {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

const tickText = (value) => String(Number(value.toPrecision(6)));

/**
 * One panel: a frame, grid, ticks and axis labels, and a polyline per series
 * (`points` as [x, y] in data units).
 */
function panel({ left, top, width, height, title, yLabel, xLabel, xMax, series, markers = [] }) {
  const yData = Math.max(0, ...series.flatMap((s) => s.points.map(([, y]) => y)));
  const yStep = niceStep(yData, 5);
  const yMax = Math.max(yStep, Math.ceil(yData / yStep) * yStep);
  const xStep = niceStep(xMax, 8);
  const px = (x) => left + (x / xMax) * width;
  const py = (y) => top + height - (y / yMax) * height;
  const out = [];
  out.push(
    `<text x="${left}" y="${top - 10}" font-size="15" font-weight="bold" fill="#222">${xml(title)}</text>`,
  );
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    const yy = py(y).toFixed(1);
    out.push(`<line x1="${left}" y1="${yy}" x2="${left + width}" y2="${yy}" stroke="#e3e3e3"/>`);
    out.push(
      `<text x="${left - 8}" y="${yy}" font-size="12" fill="#444" text-anchor="end" dominant-baseline="middle">${tickText(y)}</text>`,
    );
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    const xx = px(x).toFixed(1);
    out.push(`<line x1="${xx}" y1="${top}" x2="${xx}" y2="${top + height}" stroke="#efefef"/>`);
    out.push(
      `<text x="${xx}" y="${top + height + 18}" font-size="12" fill="#444" text-anchor="middle">${tickText(x)}</text>`,
    );
  }
  // Events (faults, say) as thin vertical lines under the series.
  for (const m of markers) {
    const xx = px(m.x).toFixed(1);
    out.push(
      `<line x1="${xx}" y1="${top}" x2="${xx}" y2="${top + height}" stroke="${m.color}" stroke-width="1" opacity="${m.opacity ?? 0.6}"/>`,
    );
  }
  out.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#888"/>`);
  const midY = top + height / 2;
  out.push(
    `<text x="${left - 50}" y="${midY}" font-size="13" fill="#222" text-anchor="middle" transform="rotate(-90 ${left - 50} ${midY})">${xml(yLabel)}</text>`,
  );
  if (xLabel !== undefined) {
    out.push(
      `<text x="${left + width / 2}" y="${top + height + 40}" font-size="13" fill="#222" text-anchor="middle">${xml(xLabel)}</text>`,
    );
  }
  // Drawn in reverse so that the first series (ours) is on top.
  for (const s of [...series].reverse()) {
    const points = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${dash} stroke-linejoin="round" points="${points}"/>`,
    );
  }
  return out.join('\n');
}

/**
 * A chart of stacked panels over one x axis. `panels` are
 * `{ title, yLabel, series: [{ name, color, width?, dash?, points }] }`, every
 * panel with the same series names; the legend is drawn once, under the title.
 * Optional: `legend` (entries `{ name, color, width?, dash? }`) instead of the
 * first panel's series, for panels with different series; `markers`
 * (`{ x, color, opacity? }`), vertical lines drawn in every panel.
 */
export function lineChart({
  title,
  subtitle,
  xLabel,
  panels,
  width = 960,
  panelHeight = 260,
  legend,
  markers,
}) {
  const left = 80;
  const right = 24;
  const plotWidth = width - left - right;
  const legendTop = subtitle ? 78 : 58;
  const firstTop = legendTop + 50;
  const gap = 70;
  const height = firstTop + panels.length * panelHeight + (panels.length - 1) * gap + 56;
  const xMax = Math.max(
    1e-9,
    ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x))),
    ...(markers ?? []).map((m) => m.x),
  );
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="30" font-size="19" font-weight="bold" fill="#111" text-anchor="middle">${xml(title)}</text>`,
  ];
  if (subtitle) {
    out.push(
      `<text x="${width / 2}" y="54" font-size="13" fill="#444" text-anchor="middle">${xml(subtitle)}</text>`,
    );
  }
  // Legend: one entry per series, in a row.
  let x = left;
  for (const s of legend ?? panels[0].series) {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(
      `<line x1="${x}" y1="${legendTop}" x2="${x + 34}" y2="${legendTop}" stroke="${s.color}" stroke-width="${s.width ?? 2}"${dash}/>`,
    );
    out.push(
      `<text x="${x + 42}" y="${legendTop}" font-size="14" fill="#222" dominant-baseline="middle">${xml(s.name)}</text>`,
    );
    x += 60 + s.name.length * 8.2;
  }
  panels.forEach((p, i) => {
    out.push(
      panel({
        left,
        top: firstTop + i * (panelHeight + gap),
        width: plotWidth,
        height: panelHeight,
        title: p.title,
        yLabel: p.yLabel,
        xLabel: i === panels.length - 1 ? xLabel : undefined,
        xMax,
        series: p.series,
        markers,
      }),
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
