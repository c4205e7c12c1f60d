import { createHash } from 'node:crypto';

/**
 * The browser side of passkeys, served by Authly itself (GET /assets/webauthn.js) and allowed only on the
 * pages that need it, by a nonce; no third-party origin. It turns the server's JSON options into the
 * ArrayBuffers navigator.credentials wants (W3C WebAuthn §5.1.3, §5.1.4), runs the ceremony, and posts
 * the result as JSON in a normal form, so the server answers with a page or a redirect as for a password.
 *
 * Markup it works with (src/views/passkey-views.ts): a form with `data-passkey="sign-in|register"`,
 * `data-options` (the options endpoint), a hidden `credential` and `csrf_token` input, a button
 * `data-passkey-start` (hidden until WebAuthn is known to work), an element `data-passkey-status`
 * (role="alert", given class `error` while it holds a message) and the messages `data-msg-cancelled`, `data-msg-failed`, `data-msg-unsupported`.
 * `data-conditional="true"` also starts conditional mediation (the passkey autofill of the username field,
 * whose autocomplete says "username webauthn").
 */
export const PASSKEY_SCRIPT = `(function () {
  'use strict';
  function toBuffer(b64url) {
    var b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }
  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function descriptors(list) {
    return (list || []).map(function (c) {
      return { type: c.type || 'public-key', id: toBuffer(c.id), transports: c.transports };
    });
  }
  function creationOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }
  function requestOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }
  function credentialJson(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle && r.userHandle.byteLength) out.response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function fetchOptions(form) {
    var body = new URLSearchParams();
    body.set('csrf_token', form.elements.namedItem('csrf_token').value);
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body
    }).then(function (res) {
      if (!res.ok) throw new Error('options ' + res.status);
      return res.json();
    });
  }
  function setup(form) {
    var mode = form.getAttribute('data-passkey');
    var status = form.querySelector('[data-passkey-status]');
    var start = form.querySelector('[data-passkey-start]');
    var pending = null;
    function say(key) {
      if (!status) return;
      status.textContent = key ? form.getAttribute('data-msg-' + key) || '' : '';
      status.className = status.textContent ? 'error' : '';
    }
    function submit(cred) {
      form.elements.namedItem('credential').value = credentialJson(cred);
      form.submit();
    }
    function failed(err) {
      if (err && err.name === 'AbortError') return;
      say(err && err.name === 'NotAllowedError' ? 'cancelled' : 'failed');
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say('unsupported');
      return;
    }
    if (start) start.hidden = false;
    function signIn(conditional) {
      if (pending) pending.abort();
      var controller = new AbortController();
      pending = controller;
      return fetchOptions(form).then(function (json) {
        var request = { publicKey: requestOptions(json), signal: controller.signal };
        if (conditional) request.mediation = 'conditional';
        return navigator.credentials.get(request);
      }).then(function (cred) {
        if (cred) submit(cred);
      });
    }
    if (mode === 'sign-in') {
      if (start) start.addEventListener('click', function () { say(''); signIn(false).catch(failed); });
      if (form.getAttribute('data-conditional') === 'true' && PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
          if (ok) return signIn(true);
        }).catch(failed);
      }
    } else if (mode === 'register') {
      form.addEventListener('submit', function (event) {
        if (form.elements.namedItem('credential').value) return;
        event.preventDefault();
        say('');
        fetchOptions(form).then(function (json) {
          return navigator.credentials.create({ publicKey: creationOptions(json) });
        }).then(function (cred) {
          if (cred) submit(cred);
        }).catch(failed);
      });
    }
  }
  document.querySelectorAll('form[data-passkey]').forEach(setup);
})();
`;

/** Subresource Integrity (W3C SRI) of the script, for the script tag's integrity attribute. */
export const PASSKEY_SCRIPT_INTEGRITY = `sha256-${createHash('sha256').update(PASSKEY_SCRIPT).digest('base64')}`;

/** A content version for the URL, so the long cache never serves an old script after an upgrade. */
export const PASSKEY_SCRIPT_VERSION = createHash('sha256').update(PASSKEY_SCRIPT).digest('base64url').slice(0, 16);
