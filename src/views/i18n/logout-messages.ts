/** RP-Initiated Logout pages (src/views/logout-pages.ts, src/routes/logout/). */
export const logoutMessages = {
  en: {
    'logout.confirm_title': 'Sign out?',
    'logout.confirm_heading': 'Sign out of {product}?',
    'logout.asked_by': '{client} asked to sign you out.',
    'logout.explain': 'You will be signed out of {product} in this browser.',
    'logout.submit': 'Sign out',
    'logout.done_title': 'Signed out',
    'logout.done_heading': 'You are signed out',
    'logout.done_text': 'You can close this window.',
    'logout.problem_title': 'Sign-out problem',
    'logout.invalid': 'This sign-out request cannot be completed. Return to the application and try again.',
    'logout.form_expired': 'The form has expired. You are still signed in; try signing out again.',
  },
  de: {
    'logout.confirm_title': 'Abmelden?',
    'logout.confirm_heading': 'Von {product} abmelden?',
    'logout.asked_by': '{client} hat darum gebeten, Sie abzumelden.',
    'logout.explain': 'Sie werden in diesem Browser von {product} abgemeldet.',
    'logout.submit': 'Abmelden',
    'logout.done_title': 'Abgemeldet',
    'logout.done_heading': 'Sie sind abgemeldet',
    'logout.done_text': 'Sie können dieses Fenster schließen.',
    'logout.problem_title': 'Problem bei der Abmeldung',
    'logout.invalid': 'Diese Abmeldung kann nicht ausgeführt werden. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.',
    'logout.form_expired': 'Das Formular ist abgelaufen. Sie sind noch angemeldet; versuchen Sie erneut, sich abzumelden.',
  },
} as const;
