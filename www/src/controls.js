// The fleet's controls: alert thresholds, the table's filter and sort, the
// charts' time window and the CSV export.

import { saveThresholds } from './alerts.js';
import { $ } from './frame.js';

/** Wires the controls to `view` (View), `table` (FleetTable) and `details` (Details). */
export function wireControls({ view, table, details }) {
  const thresholdForm = $('thresholds');
  for (const [key, value] of Object.entries(view.thresholds)) thresholdForm.elements[key].value = String(value);
  thresholdForm.addEventListener('input', () => {
    const next = { ...view.thresholds };
    for (const key of Object.keys(next)) {
      const v = thresholdForm.elements[key].valueAsNumber;
      if (Number.isFinite(v)) next[key] = v;
    }
    view.thresholds = next;
    saveThresholds(next);
    view.tick();
  });
  thresholdForm.addEventListener('submit', (e) => e.preventDefault());

  const filterForm = $('fleet-filter');
  filterForm.addEventListener('input', () => {
    table.setFilter({ name: filterForm.elements.name.value.trim(), state: filterForm.elements.state.value, breach: filterForm.elements.breach.value });
    view.redraw();
  });
  filterForm.addEventListener('submit', (e) => e.preventDefault());
  for (const th of $('fleet-table').tHead.querySelectorAll('th[data-sort] button')) th.addEventListener('click', () => view.redraw());

  const range = $('range');
  range.value = String(details.range);
  range.addEventListener('change', () => {
    details.setRange(Number(range.value));
    view.redraw(details.tiles.keys());
  });

  $('export-csv').addEventListener('click', () => details.exportCsv());
}
