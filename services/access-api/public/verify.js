// The citizen page's proof check, on the citizen's own device: for each disclosure shown, its
// C2SP tlog-proof (GET /v1/me/disclosures/:id/proof) is checked against the log's key and the
// witness policy (GET /v1/log/key, /v1/log/policy) with the browser's own WebCrypto: the log's
// Ed25519 signature of the checkpoint, each witness's cosignature/v1, the quorum, then the entry's
// RFC 6962 leaf hash walked up the RFC 9162 inclusion path to the checkpoint's root. Nothing is
// taken on the server's word but the keys. The download link saves the same proof file.
/* global TextEncoder, TextDecoder, atob, crypto, URL, Blob, setTimeout */
(function () {
  'use strict';
  var enc = new TextEncoder();

  var WORDS = {
    da: {
      checking: 'Kontrollerer beviset …',
      ok: function (size, names) {
        return 'Kontrolleret på denne enhed: i loggen (kontrolpunkt med ' + size + ' poster)' + (names.length ? ', bekræftet af ' + list(names, 'og') : ', uden vidner');
      },
      bad: 'Beviset holder ikke: ',
      pending: 'Endnu ikke i et underskrevet kontrolpunkt; prøv igen om et minut.',
      unavailable: 'Beviset kan ikke hentes lige nu.',
      noCrypto: 'Denne browser kan ikke kontrollere underskrifter; hent beviset og kontrollér det et andet sted.',
      malformed: 'bevisfilen er beskadiget',
      otherEntry: 'beviset handler om en anden videregivelse',
      logSignature: 'loggens underskrift passer ikke',
      otherLog: 'beviset kommer fra en anden log',
      quorum: function (have, names) {
        return 'for få uafhængige vidner har bekræftet det' + (have.length ? ' (kun ' + list(have, 'og') + ')' : '') + '; der kræves ' + names;
      },
      notIncluded: 'videregivelsen står ikke i loggen der, hvor beviset siger',
    },
    en: {
      checking: 'Checking the proof …',
      ok: function (size, names) {
        return 'Checked on this device: in the log (checkpoint of ' + size + ' entries)' + (names.length ? ', confirmed by ' + list(names, 'and') : ', without witnesses');
      },
      bad: 'This proof does not check out: ',
      pending: 'Not yet in a signed checkpoint; try again in a minute.',
      unavailable: 'The proof cannot be fetched right now.',
      noCrypto: 'This browser cannot check signatures; download the proof and check it elsewhere.',
      malformed: 'the proof file is damaged',
      otherEntry: 'the proof is about another disclosure',
      logSignature: "the log's signature does not match",
      otherLog: 'the proof comes from another log',
      quorum: function (have, names) {
        return 'too few independent witnesses confirmed it' + (have.length ? ' (only ' + list(have, 'and') + ')' : '') + '; it takes ' + names;
      },
      notIncluded: 'the disclosure is not in the log where the proof says it is',
    },
  };

  function list(names, and) {
    return names.length < 2 ? names.join('') : names.slice(0, -1).join(', ') + ' ' + and + ' ' + names[names.length - 1];
  }

  /** A failure to show in words: `why` is a key of WORDS[lang] (or a function's result). */
  function Fail(why) {
    this.why = why;
  }

  function b64(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Fail('malformed');
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function concat() {
    var n = 0;
    var i;
    for (i = 0; i < arguments.length; i++) n += arguments[i].length;
    var out = new Uint8Array(n);
    n = 0;
    for (i = 0; i < arguments.length; i++) {
      out.set(arguments[i], n);
      n += arguments[i].length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  var sha256 = function (bytes) {
    return crypto.subtle.digest('SHA-256', bytes).then(function (d) {
      return new Uint8Array(d);
    });
  };

  /** A C2SP verifier key `<name>+<8 hex>+<base64(type ‖ 32-byte key)>`, its key ID checked. */
  async function parseVkey(vkey, type) {
    // <name>+<hash>+<key>: the key's base64 may hold '+' too.
    var m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(String(vkey).trim());
    if (!m) throw new Fail('malformed');
    var parts = m.slice(1);
    var raw = b64(parts[2]);
    if (raw.length !== 33 || raw[0] !== type) throw new Fail('malformed');
    var id = (await sha256(concat(enc.encode(parts[0] + '\n'), raw))).slice(0, 4);
    var hex = Array.from(id, function (x) {
      return x.toString(16).padStart(2, '0');
    }).join('');
    if (hex !== parts[1]) throw new Fail('malformed');
    var key = await crypto.subtle.importKey('raw', raw.slice(1), { name: 'Ed25519' }, false, ['verify']);
    return { name: parts[0], id: id, key: key };
  }

  /** The C2SP tlog-policy lines the page needs: log, witness, group (k of n, all, any), quorum. */
  async function parsePolicy(text) {
    var p = { logs: [], witnesses: [], groups: {}, quorum: 'none' };
    var lines = text.split('\n');
    for (var i = 0; i < lines.length; i++) {
      var f = lines[i].replace(/#.*/, '').trim().split(/[ \t]+/);
      if (f[0] === 'log') p.logs.push(await parseVkey(f[1], 0x01));
      else if (f[0] === 'witness') p.witnesses.push(Object.assign(await parseVkey(f[2], 0x04), { label: f[1] }));
      else if (f[0] === 'group') {
        var members = f.slice(3);
        p.groups[f[1]] = { k: f[2] === 'all' ? members.length : f[2] === 'any' ? 1 : Number(f[2]), members: members };
      } else if (f[0] === 'quorum') p.quorum = f[1];
    }
    return p;
  }

  function quorumMet(p, cosigned, name) {
    if (name === 'none') return true;
    var g = p.groups[name];
    if (!g) return cosigned.indexOf(name) >= 0;
    var n = 0;
    g.members.forEach(function (m) {
      if (quorumMet(p, cosigned, m)) n++;
    });
    return n >= g.k;
  }

  function describeQuorum(p, name, lang) {
    var g = p.groups[name];
    if (!g) return name;
    var names = g.members.map(function (m) {
      return describeQuorum(p, m, lang);
    });
    return lang === 'da' ? g.k + ' af ' + list(names, 'og') : g.k + ' of ' + list(names, 'and');
  }

  /** tlog-proof: header, optional extra, index, hashes, empty line, the signed checkpoint. */
  function parseProof(text) {
    var split = text.indexOf('\n\n');
    if (split < 0) throw new Fail('malformed');
    var lines = text.slice(0, split).split('\n');
    if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Fail('malformed');
    var at = 1;
    var entry = null;
    if (lines[at] && lines[at].indexOf('extra ') === 0) entry = b64(lines[at++].slice(6));
    if (!lines[at] || !/^index (0|[1-9][0-9]*)$/.test(lines[at])) throw new Fail('malformed');
    var index = Number(lines[at].slice(6));
    var path = lines.slice(at + 1).map(function (l) {
      var h = b64(l);
      if (h.length !== 32) throw new Fail('malformed');
      return h;
    });
    if (!entry) throw new Fail('malformed');
    // The signed note: its text up to the last empty line, then `— <name> <base64>` lines.
    var note = text.slice(split + 2);
    var cut = note.lastIndexOf('\n\n');
    if (cut < 0) throw new Fail('malformed');
    var body = note.slice(0, cut + 1);
    var sigs = note
      .slice(cut + 2)
      .split('\n')
      .filter(Boolean)
      .map(function (l) {
        var m = /^\u2014 (\S+) (\S+)$/.exec(l);
        if (!m) throw new Fail('malformed');
        return { name: m[1], bytes: b64(m[2]) };
      });
    var cp = body.split('\n');
    if (cp.length < 4 || !/^(0|[1-9][0-9]*)$/.test(cp[1])) throw new Fail('malformed');
    var root = b64(cp[2]);
    if (root.length !== 32) throw new Fail('malformed');
    return { entry: entry, index: index, path: path, body: body, sigs: sigs, origin: cp[0], size: Number(cp[1]), root: root };
  }

  function sigsBy(proof, k) {
    return proof.sigs.filter(function (s) {
      return s.name === k.name && s.bytes.length > 4 && equal(s.bytes.slice(0, 4), k.id);
    });
  }

  /** RFC 9162 §2.1.3.2: the inclusion path from the leaf hash up to the root of a tree of `size`. */
  async function rootFromPath(index, size, leaf, path) {
    if (index >= size) return null;
    var fn = BigInt(index);
    var sn = BigInt(size - 1);
    var r = leaf;
    var one = new Uint8Array([1]);
    for (var i = 0; i < path.length; i++) {
      if (sn === 0n) return null;
      if (fn % 2n === 1n || fn === sn) {
        r = await sha256(concat(one, path[i], r));
        if (fn % 2n === 0n) {
          while (fn % 2n === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await sha256(concat(one, r, path[i]));
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n ? r : null;
  }

  /** Checks one proof; resolves to the witnesses that cosigned, or throws Fail. */
  async function check(text, policy, eventId, lang) {
    var proof = parseProof(text);
    // The entry is the stored event: its Avro bytes carry the eventId as text.
    if (new TextDecoder('latin1').decode(proof.entry).indexOf(eventId) < 0) throw new Fail('otherEntry');
    var log = policy.logs.filter(function (l) {
      return l.name === proof.origin;
    })[0];
    if (!log) throw new Fail('otherLog');
    var body = enc.encode(proof.body);
    var logSigs = sigsBy(proof, log);
    var signed = false;
    for (var i = 0; i < logSigs.length && !signed; i++) signed = await crypto.subtle.verify('Ed25519', log.key, logSigs[i].bytes.slice(4), body);
    if (!signed) throw new Fail('logSignature');
    var cosigned = [];
    for (var w = 0; w < policy.witnesses.length; w++) {
      var wk = policy.witnesses[w];
      var lines = sigsBy(proof, wk);
      for (var j = 0; j < lines.length; j++) {
        var s = lines[j].bytes;
        if (s.length !== 4 + 8 + 64) continue;
        var t = new DataView(s.buffer, s.byteOffset + 4, 8).getBigUint64(0);
        if (t === 0n || t >= 1n << 63n) continue;
        var msg = concat(enc.encode('cosignature/v1\ntime ' + t.toString() + '\n'), body);
        if (await crypto.subtle.verify('Ed25519', wk.key, s.slice(12), msg)) {
          cosigned.push(wk.label);
          break;
        }
      }
    }
    if (!quorumMet(policy, cosigned, policy.quorum)) throw new Fail(WORDS[lang].quorum(cosigned, describeQuorum(policy, policy.quorum, lang)));
    var leaf = await sha256(concat(new Uint8Array([0]), proof.entry));
    var root = await rootFromPath(proof.index, proof.size, leaf, proof.path);
    if (!root || !equal(root, proof.root)) throw new Fail('notIncluded');
    return { size: proof.size, cosigned: cosigned };
  }

  // Same-origin requests carry the session cookie; no token is read or sent by this script.
  function getText(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (res) {
      return res.text().then(function (body) {
        return { status: res.status, body: body };
      });
    });
  }

  /** The policy the server publishes, or (a log without witnesses) its key alone with quorum none. */
  async function loadPolicy() {
    var policy = await getText('/v1/log/policy');
    if (policy.status === 200) return parsePolicy(policy.body);
    var key = await getText('/v1/log/key');
    if (key.status !== 200) throw new Error('no log key');
    return parsePolicy('log ' + JSON.parse(key.body).verifierKey + '\nquorum none\n');
  }

  function say(el, text, state) {
    el.textContent = text;
    el.setAttribute('data-state', state);
  }

  async function run() {
    var items = Array.prototype.slice.call(document.querySelectorAll('.proof[data-event-id]'));
    if (items.length === 0) return;
    var lang = document.documentElement.lang === 'en' ? 'en' : 'da';
    var w = WORDS[lang];
    var texts = {};
    items.forEach(function (item) {
      var link = item.querySelector('a.proof-download');
      // The proof already fetched for the check is saved from memory (no second request).
      link.addEventListener('click', function (e) {
        e.preventDefault();
        var id = item.getAttribute('data-event-id');
        var got = texts[id] ? Promise.resolve({ status: 200, body: texts[id] }) : getText(link.getAttribute('href'));
        got.then(function (r) {
          if (r.status !== 200) return;
          var a = document.createElement('a');
          a.href = URL.createObjectURL(new Blob([r.body], { type: 'text/plain' }));
          a.download = link.getAttribute('download');
          document.body.appendChild(a);
          a.click();
          setTimeout(function () {
            URL.revokeObjectURL(a.href);
            a.remove();
          }, 0);
        });
      });
      say(item.querySelector('.proof-status'), w.checking, 'checking');
    });
    var policy;
    try {
      policy = await loadPolicy();
    } catch (err) {
      items.forEach(function (item) {
        say(item.querySelector('.proof-status'), err && err.name === 'NotSupportedError' ? w.noCrypto : w.unavailable, 'unavailable');
      });
      return;
    }
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var status = item.querySelector('.proof-status');
      var id = item.getAttribute('data-event-id');
      try {
        var r = await getText(item.querySelector('a.proof-download').getAttribute('href'));
        if (r.status === 409) {
          say(status, w.pending, 'pending');
          continue;
        }
        if (r.status !== 200) {
          say(status, w.unavailable, 'unavailable');
          continue;
        }
        texts[id] = r.body;
        var ok = await check(r.body, policy, id, lang);
        say(status, w.ok(ok.size, ok.cosigned), 'ok');
      } catch (err) {
        if (err instanceof Fail) say(status, w.bad + (typeof w[err.why] === 'string' ? w[err.why] : err.why) + '.', 'failed');
        else say(status, w.unavailable, 'unavailable');
      }
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    run();
  });
})();
