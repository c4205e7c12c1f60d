/**
 * The consent page (src/views/authorization-pages.ts). The English scope texts are the descriptions the
 * core migration seeds (OIDC Core section 5.4 scopes and offline_access); an operator who changes one
 * through the admin API sees their own text instead, in every language.
 */
export const consentMessages = {
  en: {
    'consent.title': 'Allow access?',
    'consent.wants_access': '{client} wants to access your account {account}.',
    'consent.not_you': 'Not you?',
    'consent.signed_in_as': 'Signed in as {account}.',
    'consent.switch_account': 'Sign in as someone else',
    'consent.will_be_able': 'It will be able to:',
    'consent.resources': 'Access will be for:',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',
    'consent.revoke_later': 'You can take back this access at any time under {link} in your account.',
    'consent.connected_applications': 'Connected applications',
    'consent.client_logo': 'Logo of {client}',
    'consent.client_links': 'About {client}',
    'consent.client_website': 'Website',
    'consent.privacy_policy': 'Privacy policy',
    'consent.terms_of_service': 'Terms of service',
    'consent.destination': 'After you answer, you go to {host}',
    'consent.unverified': 'This application is identified only by the URL of its metadata document, {url}; nobody has registered or checked it with this server.',
    'consent.this_device_warning':
      'Warning: this application returns only to a program on this device (localhost). Any program on your computer can use this name. Allow only if you have just started this application yourself.',
    'consent.scope.openid': 'Sign you in with your account',
    'consent.scope.profile': 'Read your name and basic profile',
    'consent.scope.email': 'Read your email address',
    'consent.scope.address': 'Read your postal address',
    'consent.scope.phone': 'Read your phone number',
    'consent.scope.offline_access': 'Stay signed in to the application while you are away',
  },
  de: {
    'consent.title': 'Zugriff erlauben?',
    'consent.wants_access': '{client} möchte auf Ihr Konto {account} zugreifen.',
    'consent.not_you': 'Nicht Sie?',
    'consent.signed_in_as': 'Angemeldet als {account}.',
    'consent.switch_account': 'Mit einem anderen Konto anmelden',
    'consent.will_be_able': 'Die Anwendung darf:',
    'consent.resources': 'Der Zugriff gilt für:',
    'consent.allow': 'Erlauben',
    'consent.deny': 'Ablehnen',
    'consent.revoke_later': 'Sie können diesen Zugriff jederzeit in Ihrem Konto unter {link} widerrufen.',
    'consent.connected_applications': 'Verbundene Anwendungen',
    'consent.client_logo': 'Logo von {client}',
    'consent.client_links': 'Über {client}',
    'consent.client_website': 'Website',
    'consent.privacy_policy': 'Datenschutzerklärung',
    'consent.terms_of_service': 'Nutzungsbedingungen',
    'consent.destination': 'Nach Ihrer Antwort geht es weiter zu {host}',
    'consent.unverified':
      'Diese Anwendung ist nur durch die URL ihres Metadaten-Dokuments bestimmt, {url}; niemand hat sie bei diesem Server registriert oder geprüft.',
    'consent.this_device_warning':
      'Warnung: Diese Anwendung kehrt nur zu einem Programm auf diesem Gerät zurück (localhost). Jedes Programm auf Ihrem Computer kann diesen Namen verwenden. Erlauben Sie nur, wenn Sie diese Anwendung gerade selbst gestartet haben.',
    'consent.scope.openid': 'Sie mit Ihrem Konto anmelden',
    'consent.scope.profile': 'Ihren Namen und Ihr Basisprofil lesen',
    'consent.scope.email': 'Ihre E-Mail-Adresse lesen',
    'consent.scope.address': 'Ihre Postanschrift lesen',
    'consent.scope.phone': 'Ihre Telefonnummer lesen',
    'consent.scope.offline_access': 'Bei der Anwendung angemeldet bleiben, während Sie abwesend sind',
  },
} as const;
