/**
 * The dashboard's only script, served from <basePath>/assets/dashboard.js (no CDN, no
 * framework): confirm prompts on destructive forms, the live details and progress of a
 * running task, and live counts and paused badges on the overview. Every value goes into the
 * page as text, never as HTML.
 */
export const DASHBOARD_JS = String.raw`
(function () {
  'use strict';
  var body = document.body;
  var base = body.getAttribute('data-base') || '';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  function getJson(path) {
    return fetch(base + path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    });
  }

  function setText(selector, text) {
    var element = document.querySelector(selector);
    if (element && element.textContent !== text) element.textContent = text;
    return element;
  }

  function formatDate(iso) {
    return iso ? iso.slice(0, 19).replace('T', ' ') : '–';
  }

  function formatMs(ms) {
    if (ms === null || ms < 0) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
    return Math.floor(ms / 3600000) + ' h ' + Math.floor((ms % 3600000) / 60000) + ' min';
  }

  function percentText(percent) {
    return Math.round(percent * 10) / 10 + '%';
  }

  // The progress section is on the page (hidden until the first report) while the task may run.
  function showProgress(progress) {
    var section = document.getElementById('task-progress');
    if (!section || !progress) return;
    section.hidden = false;
    var bar = document.querySelector('progress[data-field=progress-bar]');
    if (bar) {
      bar.value = progress.percent;
      bar.textContent = percentText(progress.percent);
    }
    setText('[data-field=progress-percent]', percentText(progress.percent));
    setText('[data-field=progress-updated]', formatDate(progress.updatedAt));
    var data = document.querySelector('pre[data-field=progress-data]');
    if (data) {
      data.hidden = progress.data === null;
      var text = progress.data === null ? '' : JSON.stringify(progress.data, null, 2);
      if (data.textContent !== text) data.textContent = text;
    }
  }

  function followTask(id, status) {
    var unfinished = { queued: true, running: true, paused: true, waiting: true };
    if (!unfinished[status]) return;
    var timer = setInterval(function () {
      getJson('/api/tasks/' + encodeURIComponent(id)).then(function (data) {
        var task = data.task;
        var details = setText('pre[data-field=details]', task.details || '(none yet)');
        if (details && task.status === 'running') details.scrollTop = details.scrollHeight;
        setText('pre[data-field=output]', task.output || '(none)');
        setText('[data-field=status]', task.status);
        var badge = document.querySelector('h1 [data-field=status]');
        if (badge) badge.className = 'status status-' + task.status;
        setText('[data-field=attempts]', task.attempts + ' of ' + task.maxAttempts);
        setText('[data-field=startedAt]', formatDate(task.startedAt));
        setText('[data-field=completedAt]', formatDate(task.completedAt));
        setText('[data-field=heartbeatAt]', formatDate(task.heartbeatAt));
        showProgress(task.progress);
        if (task.startedAt && task.completedAt) setText('[data-field=took]', formatMs(Date.parse(task.completedAt) - Date.parse(task.startedAt)));
        if (!unfinished[task.status]) {
          clearInterval(timer);
          setText('[data-field=live]', '');
          // the actions depend on the status: show the ones that now apply
          window.location.replace(window.location.pathname);
        }
      }).catch(function () { /* a missed refresh: the next one will tell */ });
    }, 1000);
  }

  function followOverview() {
    setInterval(function () {
      getJson('/api/stats').then(function (data) {
        // A count the store stopped at its cap is listed in capped: shown as "10000+".
        var count = function (value, capped, status) { return String(value) + (capped.indexOf(status) >= 0 ? '+' : ''); };
        Object.keys(data.totals).forEach(function (status) {
          setText('[data-total="' + status + '"]', count(data.totals[status], data.capped, status));
        });
        data.queues.forEach(function (queue) {
          var paused = document.querySelector('[data-paused="' + CSS.escape(queue.queueName) + '"]');
          if (paused) paused.hidden = !queue.paused;
          Object.keys(queue.stats).forEach(function (status) {
            var cell = document.querySelector('[data-count="' + CSS.escape(queue.queueName + '|' + status) + '"]');
            if (!cell) return;
            var link = cell.querySelector('a, span');
            if (link) link.textContent = count(queue.stats[status], queue.capped, status);
          });
        });
        setText('[data-field=throughput-success]', String(data.throughput.success));
        setText('[data-field=throughput-failed]', String(data.throughput.failed));
        setText('[data-field=generated]', data.generatedAt.slice(11, 19));
      }).catch(function () {});
    }, 5000);
  }

  var page = body.getAttribute('data-page');
  if (page === 'task') followTask(body.getAttribute('data-task-id'), body.getAttribute('data-task-status'));
  if (page === 'overview') followOverview();
})();
`;
