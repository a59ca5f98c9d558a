// The citizen page's script. It reads and writes no token: the session cookie (HttpOnly, so out of
// this script's reach) carries every request. Links and the filter form are ordinary GET requests and
// work without it; this only leaves empty filter fields out of the URL.
/* global setTimeout */
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var filter = document.getElementById('filter');
    if (!filter) return;
    filter.addEventListener('submit', function () {
      Array.prototype.forEach.call(filter.elements, function (el) {
        if (el.name && el.value === '') el.disabled = true;
      });
      // Enabled again for the back button's cached page.
      setTimeout(function () {
        Array.prototype.forEach.call(filter.elements, function (el) {
          el.disabled = false;
        });
      }, 0);
    });
  });
})();
