// The citizen page's only script: keeps the bearer token in sessionStorage and fetches the server-
// rendered report with it (a bearer token cannot ride on a plain link). No data is built here.
(function () {
  'use strict';
  var KEY = 'sporbar-token';

  function showError(text) {
    var el = document.getElementById('error');
    if (el) {
      el.textContent = text;
      el.hidden = false;
    } else {
      window.alert(text);
    }
  }

  function load(url) {
    var token = sessionStorage.getItem(KEY);
    if (!token) {
      window.location.assign('/');
      return;
    }
    fetch(url, { headers: { Authorization: 'Bearer ' + token, Accept: 'text/html' } })
      .then(function (res) {
        return res.text().then(function (body) {
          if (!res.ok) {
            var message = body;
            try {
              message = JSON.parse(body).message;
            } catch {
              /* not JSON: show the body as it is */
            }
            throw new Error(res.status + ': ' + message);
          }
          document.open();
          document.write(body);
          document.close();
        });
      })
      .catch(function (err) {
        showError(err.message);
      });
  }

  function reportUrl(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k]) q.set(k, params[k]);
    });
    return '/v1/me/report?' + q.toString();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var signIn = document.getElementById('sign-in');
    if (signIn) {
      signIn.addEventListener('submit', function (e) {
        e.preventDefault();
        sessionStorage.setItem(KEY, signIn.elements.token.value.trim());
        load(reportUrl({ lang: signIn.elements.lang.value }));
      });
    }
    var filter = document.getElementById('filter');
    if (filter) {
      filter.addEventListener('submit', function (e) {
        e.preventDefault();
        var p = {};
        new FormData(filter).forEach(function (v, k) {
          p[k] = v;
        });
        load(reportUrl(p));
      });
    }
    // The language link keeps the filters (its href carries them).
    document.querySelectorAll('a[data-lang]').forEach(function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        load('/v1/me/report' + a.search);
      });
    });
    // Signing out forgets the token here; the form posts to /auth/logout.
    var out = document.getElementById('sign-out');
    if (out) {
      out.addEventListener('submit', function () {
        sessionStorage.removeItem(KEY);
      });
    }
  });
})();
