/**
 * The signed-out page (public/index.html) with its sign-in filled in, once at start: a link to the
 * issuer's sign-in (`/auth/login`), or, in development without an issuer, the development sign-in
 * form, which says plainly, in both languages, that it is not MitID.
 */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type SignInMode = { readonly kind: 'oidc'; readonly displayName: string } | { readonly kind: 'development' } | { readonly kind: 'none' };

const WORDS = {
  da: {
    signIn: (name: string) => `Log ind med ${name}`,
    devTitle: 'Udviklingslogin – ikke MitID',
    devNotice: 'Dette er en udviklingsudgave af Sporbar. Her logger du ikke ind med MitID: skriv et opdigtet CPR-nummer. Brug aldrig dit eget eller en andens rigtige CPR-nummer.',
    cpr: 'Opdigtet CPR-nummer (DDMMÅÅ-NNNN)',
    devButton: 'Log ind (udvikling)',
    none: 'Der er ikke sat noget login op. Brug API’et med en adgangsbillet (Authorization: Bearer).',
  },
  en: {
    signIn: (name: string) => `Sign in with ${name}`,
    devTitle: 'Development sign-in – not MitID',
    devNotice: 'This is a development build of Sporbar. You do not sign in with MitID here: type a fictional CPR number. Never use your own or anyone else’s real CPR number.',
    cpr: 'Fictional CPR number (DDMMYY-NNNN)',
    devButton: 'Sign in (development)',
    none: 'No sign-in is configured. Use the API with an access token (Authorization: Bearer).',
  },
} as const;

export function signInBlock(mode: SignInMode, lang: 'da' | 'en'): string {
  const w = WORDS[lang];
  if (mode.kind === 'oidc') return `<p><a class="sign-in" href="/auth/login?lang=${lang}">${esc(w.signIn(mode.displayName))}</a></p>`;
  if (mode.kind === 'none') return `<p>${esc(w.none)}</p>`;
  return `<div class="dev-notice" role="note" aria-labelledby="dev-${lang}-h">
<h3 id="dev-${lang}-h">${esc(w.devTitle)}</h3>
<p>${esc(w.devNotice)}</p>
</div>
<form class="dev-sign-in" method="post" action="/auth/dev-login">
<input type="hidden" name="lang" value="${lang}">
<label for="cpr-${lang}">${esc(w.cpr)}</label>
<input id="cpr-${lang}" name="cpr" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" required pattern="[0-9]{6}-?[0-9]{4}" size="12">
<button type="submit">${esc(w.devButton)}</button>
</form>`;
}

/** The page; an error (a failed development sign-in) is shown above the forms in both languages, as an alert. */
export function renderSignInPage(template: string, mode: SignInMode, error?: { readonly da: string; readonly en: string }): string {
  const alert = error ? `<div id="error" role="alert"><p lang="da">${esc(error.da)}</p><p lang="en">${esc(error.en)}</p></div>\n` : '';
  return template.replace('<div class="langs">', `${alert}<div class="langs">`).replace('<!--sign-in:da-->', signInBlock(mode, 'da')).replace('<!--sign-in:en-->', signInBlock(mode, 'en'));
}
