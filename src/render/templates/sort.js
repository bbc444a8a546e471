// Click a column header to sort the table; click again to reverse. Empty values sort last.
(function () {
  'use strict';
  // Served by `sentinel reports`: offer the way back to the index (a file:// copy has no index).
  var back = document.getElementById('all-runs');
  if (back && location.protocol !== 'file:') back.hidden = false;
  var collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  function key(row, i) {
    var cell = row.cells[i];
    if (!cell) return '';
    var v = cell.getAttribute('data-sort');
    return v === null ? cell.textContent.trim() : v;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, i) {
      var type = th.getAttribute('data-type');
      var button = th.querySelector('button');
      if (!type || !button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var sign = dir === 'ascending' ? 1 : -1;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, pos) { return { row: row, k: key(row, i), pos: pos }; });
        rows.sort(function (a, b) {
          if (a.k === '' || b.k === '') return a.k === b.k ? a.pos - b.pos : a.k === '' ? 1 : -1;
          var c = type === 'number' ? Number(a.k) - Number(b.k) : collator.compare(a.k, b.k);
          return c !== 0 ? sign * c : a.pos - b.pos;
        });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  });
})();
