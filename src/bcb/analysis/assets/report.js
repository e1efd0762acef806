(function () {
  var table = document.getElementById('leaderboard');
  function sortBy(th) {
    var col = +th.dataset.col, numeric = th.dataset.type === 'num';
    var current = th.getAttribute('aria-sort');
    var dir = current === 'none' ? (numeric ? 'descending' : 'ascending') : (current === 'ascending' ? 'descending' : 'ascending');
    table.querySelectorAll('th').forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', dir);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows), sign = dir === 'ascending' ? 1 : -1;
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      if (numeric) {
        var fx = x === '' ? null : parseFloat(x), fy = y === '' ? null : parseFloat(y);
        if (fx === null || fy === null) return (fx === null) - (fy === null);
        if (fx !== fy) return sign * (fx - fy);
      } else {
        var c = x.localeCompare(y);
        if (c) return sign * c;
      }
      return a.dataset.label.localeCompare(b.dataset.label);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  table.querySelectorAll('th').forEach(function (th) {
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sortBy(th); });
  });

  var data = JSON.parse(document.getElementById('task-data').textContent);
  var list = document.getElementById('tasks'), detail = document.getElementById('task-detail');
  var filter = document.getElementById('task-filter'), kind = document.getElementById('task-kind');
  var byCategory = document.getElementById('task-category'), byLibrary = document.getElementById('task-library');
  var byDomain = document.getElementById('task-domain'), count = document.getElementById('task-count');
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function options(select, values) { values.forEach(function (v) { var o = el('option', v); o.value = v; select.appendChild(o); }); }
  options(byCategory, data.categories);
  options(byLibrary, data.libraries);
  options(byDomain, data.domains);
  if (!data.domains.length) byDomain.disabled = true;
  function solvedCount(t) { return t.results.filter(function (r) { return r.n && 2 * r.solved > r.n; }).length; }
  function badge(category) {
    var b = el('span', category, 'badge');
    b.style.background = data.colours[category] || '#ddd';
    return b;
  }
  function keep(t) {
    var q = filter.value.trim().toLowerCase();
    if (q && t.id.toLowerCase().indexOf(q) < 0 && !t.libs.some(function (l) { return l.toLowerCase().indexOf(q) >= 0; })) return false;
    if (byCategory.value && !t.results.some(function (r) { return r.category === byCategory.value; })) return false;
    if (byLibrary.value && t.libs.indexOf(byLibrary.value) < 0 && !t.results.some(function (r) { return r.library === byLibrary.value; })) return false;
    if (byDomain.value && t.domains.indexOf(byDomain.value) < 0) return false;
    var s = solvedCount(t), n = t.results.filter(function (r) { return r.n; }).length;
    switch (kind.value) {
      case 'split': return s > 0 && s < n;
      case 'none': return s === 0;
      case 'every': return s === n;
      case 'gt': return t.gt_failing;
      default: return true;
    }
  }
  function sideBySide(t) {
    var ran = t.results.filter(function (r) { return r.n; });
    if (ran.length < 2) return;
    var box = el('div', undefined, 'compare'), head = el('div', undefined, 'compare-head'), cols = el('div', undefined, 'side-by-side');
    box.id = 'side-by-side';
    detail.appendChild(el('h4', 'Solutions side by side'));
    var picks = [0, 1].map(function (k) {
      var select = el('select'); select.className = 'pick'; select.id = 'pick-' + k;
      ran.forEach(function (r, i) { var o = el('option', r.entry); o.value = i; select.appendChild(o); });
      select.value = String(k);
      head.appendChild(select);
      var pre = el('pre', '', 'side'); cols.appendChild(pre);
      function fill() {
        var r = ran[+select.value];
        pre.textContent = r.solution;
        pre.dataset.entry = r.entry;
        pre.title = r.entry + ': ' + (r.category || 'solved');
      }
      select.addEventListener('change', fill);
      fill();
      return select;
    });
    box.appendChild(head); box.appendChild(cols); detail.appendChild(box);
    return picks;
  }
  function show(t, li) {
    list.querySelectorAll('li.active').forEach(function (x) { x.classList.remove('active'); });
    if (li) li.classList.add('active');
    detail.textContent = '';
    detail.appendChild(el('h3', t.id));
    detail.appendChild(el('p', 'libraries: ' + (t.libs.join(', ') || 'none') + (t.domains.length ? ' · domains: ' + t.domains.join(', ') : '')));
    detail.appendChild(el('p', 'ground truth: ' + t.gt, t.gt_failing ? 'warn' : ''));
    Object.keys(t.prompts).forEach(function (split) {
      detail.appendChild(el('h4', split + ' prompt'));
      detail.appendChild(el('pre', t.prompts[split]));
    });
    t.results.forEach(function (r) {
      if (!r.n) { detail.appendChild(el('h4', r.entry + ': not run')); return; }
      var ok = 2 * r.solved > r.n;
      var h = el('h4', r.entry + ': ' + (ok ? 'solved' : 'not solved') + ' (' + r.solved + '/' + r.n + ' samples) ', ok ? 'ok' : 'bad');
      h.className += ' result';
      h.dataset.entry = r.entry;
      if (r.category) { h.appendChild(badge(r.category)); h.dataset.category = r.category; }
      detail.appendChild(h);
      if (r.category) detail.appendChild(el('p', 'why: ' + r.why, 'why'));
      if (r.lazy) detail.appendChild(el('p', 'lazy answer: ' + r.lazy, 'warn'));
      if (r.details.length) {
        var ul = el('ul', undefined, 'failing-tests');
        r.details.forEach(function (d) {
          var li2 = el('li'); li2.appendChild(el('span', d[0], 'fail-test'));
          if (d[1]) { li2.appendChild(el('span', ' ')); li2.appendChild(badge(d[1])); }
          li2.appendChild(el('pre', d[2])); ul.appendChild(li2);
        });
        detail.appendChild(ul);
      } else if (!ok) {
        detail.appendChild(el('p', 'status: ' + r.status));
      }
      var sol = el('details'); sol.appendChild(el('summary', 'solution')); sol.appendChild(el('pre', r.solution)); detail.appendChild(sol);
    });
    sideBySide(t);
    var canon = el('details'); canon.appendChild(el('summary', 'canonical solution')); canon.appendChild(el('pre', t.canonical)); detail.appendChild(canon);
  }
  function render() {
    list.textContent = '';
    var shown = data.tasks.filter(keep);
    shown.forEach(function (t) {
      var li = el('li'); li.appendChild(el('span', t.id)); li.dataset.id = t.id;
      var dots = el('span', '', 'dots');
      t.results.forEach(function (r) {
        var ok = r.n && 2 * r.solved > r.n;
        var dot = el('span', r.n ? (ok ? '\u25CF' : '\u25CB') : '\u00B7', ok ? 'ok' : 'bad');
        dot.title = r.entry + (r.category ? ': ' + r.category : '');
        dots.appendChild(dot);
      });
      li.appendChild(dots);
      li.addEventListener('click', function () { show(t, li); });
      list.appendChild(li);
    });
    count.textContent = shown.length + ' of ' + data.tasks.length + ' tasks';
  }
  [filter].forEach(function (x) { x.addEventListener('input', render); });
  [kind, byCategory, byLibrary, byDomain].forEach(function (x) { x.addEventListener('change', render); });
  render();
  if (data.tasks.length) show(data.tasks[0], list.firstChild);
})();
