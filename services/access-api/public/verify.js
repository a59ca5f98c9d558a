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
    var note = parseSignedNote(text.slice(split + 2));
    note.entry = entry;
    note.index = index;
    note.path = path;
    return note;
  }

  /** A signed checkpoint note: its text up to the last empty line, then `— <name> <base64>` lines. */
  function parseSignedNote(note) {
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
    return { body: body, sigs: sigs, origin: cp[0], size: Number(cp[1]), root: root };
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

  /**
   * A checkpoint note under the policy: the log's signature, each witness's cosignature/v1, the
   * quorum. Resolves to the witnesses that cosigned, or throws Fail.
   */
  async function checkCheckpoint(proof, policy, lang) {
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
    return cosigned;
  }

  /** Checks one proof; resolves to the witnesses that cosigned, or throws Fail. */
  async function check(text, policy, eventId, lang) {
    var proof = parseProof(text);
    // The entry is the stored event: its Avro bytes carry the eventId as text.
    if (new TextDecoder('latin1').decode(proof.entry).indexOf(eventId) < 0) throw new Fail('otherEntry');
    var cosigned = await checkCheckpoint(proof, policy, lang);
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
  var policyLoaded = null;
  function policyOnce() {
    if (!policyLoaded) policyLoaded = loadPolicy();
    return policyLoaded;
  }
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
      policy = await policyOnce();
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

  // ---------------------------------------------------------------------------------------------
  // "Nothing about me was left out" (the subject map, docs/subject-map.md): the bundle of
  // GET /v1/me/subject-map checked on the device. (1) its checkpoint under the policy, as above;
  // (2) the map's commitment is a leaf of that checkpoint's tree; (3) it is a SubjectMapCommitted
  // (Avro, decoded here) for a size before itself; (4) for each of the citizen's pseudonyms, every
  // listed leaf's bytes hash to its leaf hash and are that DisclosureRecorded, and the list is exactly
  // the chain the map proof opens to (count and head); (5) the pending ones are not yet under the map;
  // (6) the list and the pending ones are as many as the page shows (data-total). Between (3) and (4):
  // the map is recent by this device's clock — committed at most 7 hours ago (the log commits one at
  // least every 6 hours, even with nothing new) and not more than 10 minutes ahead — since an old map
  // could leave out everything after it (the same limits as `sporbar-audit verify-proof`).

  /** The oldest map accepted (seconds): the log's 6 h heartbeat + 1 h. */
  var MAP_MAX_AGE_SECONDS = 7 * 3600;
  /** How far ahead of this device's clock a map's time may be. */
  var MAP_MAX_FUTURE_SECONDS = 600;

  var MONTHS = {
    da: ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december'],
    en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  };

  /** A time in words, in this device's time zone: `7. december 2026 kl. 11.49` / `7 December 2026 at 11:49`. */
  function when(ms, lang) {
    var t = new Date(ms);
    var hh = String(t.getHours()).padStart(2, '0');
    var mm = String(t.getMinutes()).padStart(2, '0');
    return lang === 'da'
      ? t.getDate() + '. ' + MONTHS.da[t.getMonth()] + ' ' + t.getFullYear() + ' kl. ' + hh + '.' + mm
      : t.getDate() + ' ' + MONTHS.en[t.getMonth()] + ' ' + t.getFullYear() + ' at ' + hh + ':' + mm;
  }

  /** Fingerprints (hex of the 8 little-endian header bytes) of the schemas read here: an event of another schema is refused. */
  var FINGERPRINTS = {
    DisclosureRecorded: ['9b4d6e8bfaa65f8b', 'e9ab15ddb42d0d62'],
    SubjectMapCommitted: ['ed7f70c5239145f2'],
  };

  function plural(n, one, many) {
    return n === 1 ? one : many;
  }

  var MAP_WORDS = {
    da: {
      checking: 'Kontrollerer, at ingen videregivelser om dig mangler …',
      ok: function (n, upTo, pending, at) {
        var head =
          n === 0
            ? 'Kontrolleret på denne enhed: der er ingen videregivelser om dig til og med post ' + upTo + ' i loggen – ingen mangler, ingen er tilføjet.'
            : 'Kontrolleret på denne enhed: ' + (n === 1 ? 'den ene videregivelse' : 'alle ' + n + ' videregivelser') + ' om dig til og med post ' + upTo + ' i loggen er med – ingen mangler, ingen er tilføjet.';
        return head + ' Listen er fuldstændig pr. ' + when(at, 'da') + '.' + (pending ? ' ' + pending + ' ' + plural(pending, 'nyere videregivelse er', 'nyere videregivelser er') + ' endnu ikke med i kontrollen.' : '');
      },
      stale: function (at) {
        return 'Beviset er fra ' + when(at, 'da') + ' – for gammelt til at vise, at intet nyere mangler.';
      },
      future: function (at) {
        return 'Beviset er dateret ' + when(at, 'da') + ', senere end denne enheds ur – kontrollér, at uret går rigtigt.';
      },
      bad: 'Listen over dine videregivelser holder ikke: ',
      none: 'Loggen har endnu ingen fortegnelse over dine videregivelser; prøv igen senere.',
      unavailable: 'Kontrollen af, at ingen videregivelser mangler, kan ikke hentes lige nu.',
      noCrypto: 'Denne browser kan ikke kontrollere underskrifter; hent rapporten og kontrollér den et andet sted.',
      malformed: 'kontrolfilen er beskadiget',
      logSignature: 'loggens underskrift passer ikke',
      otherLog: 'kontrollen kommer fra en anden log',
      commitment: 'loggens fortegnelse over dine videregivelser står ikke i loggen',
      commitmentBad: 'loggens fortegnelse over dine videregivelser er beskadiget',
      leaf: 'en af videregivelserne på listen er ikke den, loggen har',
      badProof: 'listen passer ikke med loggens fortegnelse over dig',
      missing: function (n) {
        return n + ' ' + plural(n, 'videregivelse mangler', 'videregivelser mangler') + ' på listen';
      },
      extra: function (n) {
        return n + ' ' + plural(n, 'videregivelse', 'videregivelser') + ' på listen handler ikke om dig';
      },
      reordered: 'listen er ikke i loggens rækkefølge',
      duplicate: 'en videregivelse står to gange på listen',
      substituted: 'listen har det rigtige antal, men ikke de samme videregivelser som loggen',
      beyond: 'listen regner en nyere videregivelse med, som loggens fortegnelse ikke dækker',
      mixed: 'listen blander dig sammen med en anden',
      pendingCovered: 'en videregivelse står som endnu ikke med, men burde være med',
      pageExtra: function (n) {
        return 'siden viser ' + n + ' ' + plural(n, 'videregivelse', 'videregivelser') + ', som ikke er med i kontrollen';
      },
      pageMissing: function (n) {
        return n + ' ' + plural(n, 'videregivelse mangler', 'videregivelser mangler') + ' på siden';
      },
    },
    en: {
      checking: 'Checking that no disclosure about you is missing …',
      ok: function (n, upTo, pending, at) {
        var head =
          n === 0
            ? 'Checked on this device: there are no disclosures about you up to entry ' + upTo + ' of the log — none missing, none added.'
            : 'Checked on this device: ' + (n === 1 ? 'the one disclosure' : 'all ' + n + ' disclosures') + ' about you up to entry ' + upTo + ' of the log ' + (n === 1 ? 'is' : 'are') + ' here — none missing, none added.';
        return head + ' The list is complete as of ' + when(at, 'en') + '.' + (pending ? ' ' + pending + ' ' + plural(pending, 'newer disclosure is', 'newer disclosures are') + ' not yet covered by the check.' : '');
      },
      stale: function (at) {
        return 'The proof is from ' + when(at, 'en') + ' – too old to show that nothing newer is missing.';
      },
      future: function (at) {
        return "The proof is dated " + when(at, 'en') + ", later than this device's clock – check that the clock is right.";
      },
      bad: 'The list of your disclosures does not check out: ',
      none: 'The log has no list of your disclosures yet; try again later.',
      unavailable: 'The check that no disclosure is missing cannot be fetched right now.',
      noCrypto: 'This browser cannot check signatures; download the report and check it elsewhere.',
      malformed: 'the check file is damaged',
      logSignature: "the log's signature does not match",
      otherLog: 'the check comes from another log',
      commitment: "the log's list of your disclosures is not in the log",
      commitmentBad: "the log's list of your disclosures is damaged",
      leaf: 'one of the disclosures in the list is not the one in the log',
      badProof: "the list does not match the log's list of your disclosures",
      missing: function (n) {
        return n + ' ' + plural(n, 'disclosure is', 'disclosures are') + ' missing from the list';
      },
      extra: function (n) {
        return n + ' ' + plural(n, 'disclosure', 'disclosures') + ' in the list ' + plural(n, 'is', 'are') + ' not about you';
      },
      reordered: "the list is not in the log's order",
      duplicate: 'a disclosure is in the list twice',
      substituted: 'the list has the right number, but not the same disclosures as the log',
      beyond: "the list counts a newer disclosure the log's list does not cover",
      mixed: 'the list mixes you up with someone else',
      pendingCovered: 'a disclosure is shown as not yet covered, but should be',
      pageExtra: function (n) {
        return 'the page shows ' + n + ' ' + plural(n, 'disclosure', 'disclosures') + ' the check does not include';
      },
      pageMissing: function (n) {
        return n + ' ' + plural(n, 'disclosure is', 'disclosures are') + ' missing from the page';
      },
    },
  };

  /** A map failure: `key` names MAP_WORDS[lang][key], a string or a function of `n`. */
  function MapFail(key, n) {
    this.key = key;
    this.n = n;
  }

  function hex(bytes) {
    return Array.from(bytes, function (x) {
      return x.toString(16).padStart(2, '0');
    }).join('');
  }

  /** Avro binary, the little the check reads: zigzag varint longs, strings, fixed bytes. */
  function AvroReader(bytes, off) {
    this.b = bytes;
    this.o = off;
  }
  AvroReader.prototype.long = function () {
    var v = 0n;
    var shift = 0n;
    for (var i = 0; i < 10; i++) {
      if (this.o >= this.b.length) throw new MapFail('commitmentBad');
      var x = this.b[this.o++];
      v |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) {
        var n = v & 1n ? -(v >> 1n) - 1n : v >> 1n;
        if (n > 9007199254740991n || n < -9007199254740991n) throw new MapFail('commitmentBad');
        return Number(n);
      }
      shift += 7n;
    }
    throw new MapFail('commitmentBad');
  };
  AvroReader.prototype.fixed = function (n) {
    if (n < 0 || this.o + n > this.b.length) throw new MapFail('commitmentBad');
    var out = this.b.slice(this.o, this.o + n);
    this.o += n;
    return out;
  };
  AvroReader.prototype.string = function () {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.fixed(this.long()));
  };

  /** The Avro single-object header (C3 01, fingerprint): a reader after it, or null when not of `type`. */
  function avroOf(bytes, type) {
    if (bytes.length < 10 || bytes[0] !== 0xc3 || bytes[1] !== 0x01) return null;
    if (FINGERPRINTS[type].indexOf(hex(bytes.slice(2, 10))) < 0) return null;
    return new AvroReader(bytes, 10);
  }

  /** SubjectMapCommitted v1: eventId (string), occurredAt (long, µs), treeSize (long), rootHash (fixed 32), nothing after. */
  function readCommitment(bytes) {
    var r = avroOf(bytes, 'SubjectMapCommitted');
    if (!r) throw new MapFail('commitmentBad');
    try {
      r.string();
      var micros = r.long();
      var treeSize = r.long();
      var root = r.fixed(32);
    } catch {
      throw new MapFail('commitmentBad');
    }
    if (r.o !== bytes.length || treeSize < 0) throw new MapFail('commitmentBad');
    return { treeSize: treeSize, root: root, at: Math.floor(micros / 1000) };
  }

  /** DisclosureRecorded (v1 and v2 begin alike): eventId, occurredAt, sourceSystem, controllerCvr, activity, subject {scheme, value}. */
  function readDisclosure(bytes) {
    var r = avroOf(bytes, 'DisclosureRecorded');
    if (!r) throw new MapFail('leaf');
    try {
      var eventId = r.string();
      r.long();
      r.string();
      r.string();
      r.string();
      var scheme = r.long();
      return { eventId: eventId, pseudonymous: scheme === 1, subject: r.string() };
    } catch {
      throw new MapFail('leaf');
    }
  }

  function u64(n) {
    var out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n));
    return out;
  }
  function tagged(tag) {
    return sha256(concat.apply(null, [new Uint8Array([tag])].concat(Array.prototype.slice.call(arguments, 1))));
  }
  function bitAt(index, depth) {
    return (index[depth >> 3] >> (7 - (depth & 7))) & 1;
  }

  /** The map proof's encoding (services/auditor/src/map/proof.ts), strictly: kind, depth, bitmap, siblings, terminal. */
  function decodeMapProof(b, empty) {
    if (b.length < 3) throw new MapFail('malformed');
    var kind = b[0];
    var d = (b[1] << 8) | b[2];
    if (d > 256) throw new MapFail('malformed');
    var bitmapLen = Math.ceil(d / 8);
    var off = 3;
    if (b.length < off + bitmapLen) throw new MapFail('malformed');
    var bitmap = b.slice(off, off + bitmapLen);
    off += bitmapLen;
    if (d % 8 !== 0 && (bitmap[bitmapLen - 1] & (0xff >> d % 8)) !== 0) throw new MapFail('malformed');
    var siblings = [];
    for (var i = 0; i < d; i++) {
      if (bitmap[i >> 3] & (0x80 >> (i & 7))) {
        if (b.length < off + 32) throw new MapFail('malformed');
        var s = b.slice(off, off + 32);
        if (equal(s, empty)) throw new MapFail('malformed');
        siblings.push(s);
        off += 32;
      } else siblings.push(empty);
    }
    var rest = b.length - off;
    if (kind === 1 && rest === 72) {
      var count = new DataView(b.buffer, b.byteOffset + off, 8).getBigUint64(0);
      if (count > 9007199254740991n) throw new MapFail('malformed');
      return { siblings: siblings, kind: 'member', count: Number(count), head: b.slice(off + 8, off + 40), salt: b.slice(off + 40, off + 72) };
    }
    if (kind === 3 && rest === 64) return { siblings: siblings, kind: 'other', index: b.slice(off, off + 32), valueHash: b.slice(off + 32, off + 64) };
    if (kind === 2 && rest === 0) return { siblings: siblings, kind: 'empty' };
    throw new MapFail('malformed');
  }

  /** verifyMapProof: the committed value { count, head, salt }, or null (absent); throws MapFail('badProof'). */
  async function verifyMapProof(root, index, p, empty) {
    var d = p.siblings.length;
    var h;
    if (p.kind === 'member') {
      if (p.count === 0) throw new MapFail('badProof');
      h = await tagged(0x23, index, await tagged(0x22, u64(p.count), p.head));
    } else if (p.kind === 'other') {
      if (equal(p.index, index)) throw new MapFail('badProof');
      for (var i = 0; i < d; i++) if (bitAt(p.index, i) !== bitAt(index, i)) throw new MapFail('badProof');
      h = await tagged(0x23, p.index, p.valueHash);
    } else h = empty;
    if (d > 0 && equal(p.siblings[d - 1], empty)) throw new MapFail('badProof');
    for (var k = d - 1; k >= 0; k--) h = bitAt(index, k) ? await tagged(0x24, p.siblings[k], h) : await tagged(0x24, h, p.siblings[k]);
    if (!equal(h, root)) throw new MapFail('badProof');
    return p.kind === 'member' ? p : null;
  }

  /** checkSubjectList (map/proof.ts), in its order: the proof, then beyond-size, duplicate, reordered, the count, the chain. */
  async function checkSubjectList(root, index, proof, leaves, treeSize, empty) {
    var value = await verifyMapProof(root, index, proof, empty);
    for (var i = 0; i < leaves.length; i++) {
      if (leaves[i].leafIndex >= treeSize) throw new MapFail('beyond');
      if (i > 0 && leaves[i].leafIndex === leaves[i - 1].leafIndex) throw new MapFail('duplicate');
      if (i > 0 && leaves[i].leafIndex < leaves[i - 1].leafIndex) throw new MapFail('reordered');
    }
    var committed = value ? value.count : 0;
    if (leaves.length < committed) throw new MapFail('missing', committed - leaves.length);
    if (leaves.length > committed) throw new MapFail('extra', leaves.length - committed);
    if (!value) return 0;
    var head = await tagged(0x20, index, value.salt);
    for (var j = 0; j < leaves.length; j++) head = await tagged(0x21, head, u64(leaves[j].leafIndex), leaves[j].leafHash);
    if (!equal(head, value.head)) throw new MapFail('substituted');
    return committed;
  }

  function isPosition(n) {
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  }
  function hash32(text) {
    var h = b64(text);
    if (h.length !== 32) throw new MapFail('malformed');
    return h;
  }

  /** Checks a bundle (parsed JSON) against the policy and the page's total; resolves to { proven, upTo, pending } or throws. */
  async function checkBundle(bundle, policy, total, lang) {
    if (!bundle || bundle.format !== 'sporbar-subject-map-proof/1' || typeof bundle.checkpoint !== 'string' || !bundle.commitment || !Array.isArray(bundle.subjects) || !Array.isArray(bundle.pending)) throw new MapFail('malformed');
    // 1. The checkpoint.
    var note = parseSignedNote(bundle.checkpoint);
    if (note.origin !== bundle.origin) throw new MapFail('otherLog');
    await checkCheckpoint(note, policy, lang);
    // 2. The commitment is in its tree.
    var c = bundle.commitment;
    if (!isPosition(c.leafIndex) || !Array.isArray(c.inclusionProof)) throw new MapFail('malformed');
    var event = b64(c.event);
    var cRoot = await rootFromPath(c.leafIndex, note.size, await sha256(concat(new Uint8Array([0]), event)), c.inclusionProof.map(hash32));
    if (!cRoot || !equal(cRoot, note.root)) throw new MapFail('commitment');
    // 3. A SubjectMapCommitted for a size before itself.
    var committed = readCommitment(event);
    if (committed.treeSize > c.leafIndex) throw new MapFail('commitmentBad');
    var treeSize = committed.treeSize;
    // 3b. Recent, by this device's clock.
    var now = Date.now();
    if (now - committed.at > MAP_MAX_AGE_SECONDS * 1000) throw new MapFail('stale', committed.at);
    if (committed.at - now > MAP_MAX_FUTURE_SECONDS * 1000) throw new MapFail('future', committed.at);
    var empty = await sha256(new Uint8Array([0x25]));
    // 4. Each of the citizen's pseudonyms: its leaves are exactly what the map holds.
    var seen = {};
    var proven = 0;
    var pseudonyms = {};
    for (var s = 0; s < bundle.subjects.length; s++) {
      var subject = bundle.subjects[s];
      if (!subject || typeof subject.index !== 'string' || !/^[0-9a-f]{64}$/.test(subject.index) || !Array.isArray(subject.leaves)) throw new MapFail('malformed');
      var index = new Uint8Array(32);
      for (var k = 0; k < 32; k++) index[k] = parseInt(subject.index.substr(2 * k, 2), 16);
      var leaves = [];
      var pseudonym = null;
      var mixed = false;
      for (var i = 0; i < subject.leaves.length; i++) {
        var l = subject.leaves[i];
        if (!l || typeof l.eventId !== 'string' || !isPosition(l.leafIndex)) throw new MapFail('malformed');
        if (seen[l.eventId]) throw new MapFail('duplicate');
        seen[l.eventId] = true;
        var bytes = b64(l.event);
        var lh = hash32(l.leafHash);
        if (!equal(await sha256(concat(new Uint8Array([0]), bytes)), lh)) throw new MapFail('leaf');
        var d = readDisclosure(bytes);
        if (d.eventId !== l.eventId || !d.pseudonymous) throw new MapFail('leaf');
        if (i === 0) pseudonym = d.subject;
        else if (d.subject !== pseudonym) mixed = true;
        leaves.push({ leafIndex: l.leafIndex, leafHash: lh });
      }
      proven += await checkSubjectList(committed.root, index, decodeMapProof(b64(subject.proof), empty), leaves, treeSize, empty);
      if (mixed || (pseudonym !== null && pseudonyms[pseudonym])) throw new MapFail('mixed');
      if (pseudonym !== null) pseudonyms[pseudonym] = true;
    }
    // 5. The pending ones are not yet under the map.
    for (var p = 0; p < bundle.pending.length; p++) {
      var item = bundle.pending[p];
      if (!item || typeof item.eventId !== 'string' || !(item.leafIndex === null || isPosition(item.leafIndex))) throw new MapFail('malformed');
      if (seen[item.eventId]) throw new MapFail('duplicate');
      seen[item.eventId] = true;
      if (item.leafIndex !== null && item.leafIndex < treeSize) throw new MapFail('pendingCovered');
    }
    // 6. As many as the page shows.
    var inBundle = proven + bundle.pending.length;
    if (total > inBundle) throw new MapFail('pageExtra', total - inBundle);
    if (total < inBundle) throw new MapFail('pageMissing', inBundle - total);
    return { proven: proven, upTo: treeSize, pending: bundle.pending.length, at: committed.at };
  }

  async function runMap() {
    var section = document.getElementById('subject-map-check');
    if (!section) return;
    var status = section.querySelector('[role="status"]');
    var lang = document.documentElement.lang === 'en' ? 'en' : 'da';
    var w = MAP_WORDS[lang];
    var number = new Intl.NumberFormat(lang === 'da' ? 'da-DK' : 'en-GB');
    say(status, w.checking, 'checking');
    var total = Number(section.getAttribute('data-total'));
    try {
      var policy = await policyOnce();
      var r = await getText(section.getAttribute('data-url'));
      if (r.status === 404 || r.status === 409) {
        say(status, w.none, 'pending');
        return;
      }
      if (r.status !== 200) {
        say(status, w.unavailable, 'unavailable');
        return;
      }
      var bundle;
      try {
        bundle = JSON.parse(r.body);
      } catch {
        throw new MapFail('malformed');
      }
      var ok = await checkBundle(bundle, policy, total, lang);
      say(status, w.ok(ok.proven, number.format(ok.upTo), ok.pending, ok.at), 'ok');
    } catch (err) {
      var key = err instanceof MapFail ? err.key : err instanceof Fail ? err.why : null;
      if (key === null) {
        say(status, err && err.name === 'NotSupportedError' ? w.noCrypto : w.unavailable, 'unavailable');
        return;
      }
      // An old (or future) map is no broken list: said in a sentence of its own.
      if (key === 'stale' || key === 'future') {
        say(status, w[key](err.n), 'failed');
        return;
      }
      var words = w[key] !== undefined ? w[key] : WORDS[lang][key] !== undefined ? WORDS[lang][key] : key;
      say(status, w.bad + (typeof words === 'function' ? words(err.n) : words) + '.', 'failed');
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    run();
    runMap();
  });
})();
