/** Error pages for a person (src/http/error-handler.ts, the rate limiter, 404). The technical reason goes below, in details. */
export const errorsMessages = {
  en: {
    'errors.invalid_request_title': 'Invalid request',
    'errors.invalid_request': 'The request could not be processed. Return to the application and try again.',
    'errors.invalid_authorization': 'The application sent a sign-in request that cannot be accepted. Return to the application; if this keeps happening, tell its support.',
    'errors.server_title': 'Server error',
    'errors.server': 'Something went wrong on our side. Try again later.',
    'errors.unavailable_title': 'Temporarily unavailable',
    'errors.unavailable': 'The service is temporarily unavailable. Please try again in a moment.',
    'errors.not_found_title': 'Page not found',
    'errors.not_found': 'There is no page at this address. Check the address, or return to the application you came from.',
    'errors.method_not_allowed_title': 'Not a page',
    'errors.method_not_allowed': 'Applications send requests to this address; it has no page to show. Check the address, or return to the application you came from.',
    'errors.rate_limited_title': 'Too many requests',
    'errors.rate_limited': 'This browser or network sent too many requests. Try again {wait}.',
  },
  de: {
    'errors.invalid_request_title': 'Ungültige Anfrage',
    'errors.invalid_request': 'Die Anfrage konnte nicht bearbeitet werden. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.',
    'errors.invalid_authorization':
      'Die Anwendung hat eine Anmeldeanfrage gesendet, die nicht angenommen werden kann. Kehren Sie zur Anwendung zurück; wenn das wieder passiert, wenden Sie sich an deren Support.',
    'errors.server_title': 'Serverfehler',
    'errors.server': 'Bei uns ist etwas schiefgegangen. Versuchen Sie es später erneut.',
    'errors.unavailable_title': 'Vorübergehend nicht verfügbar',
    'errors.unavailable': 'Der Dienst ist vorübergehend nicht verfügbar. Versuchen Sie es gleich noch einmal.',
    'errors.not_found_title': 'Seite nicht gefunden',
    'errors.not_found': 'Unter dieser Adresse gibt es keine Seite. Prüfen Sie die Adresse oder kehren Sie zur Anwendung zurück, von der Sie kamen.',
    'errors.method_not_allowed_title': 'Keine Seite',
    'errors.method_not_allowed': 'An diese Adresse senden Anwendungen ihre Anfragen; sie hat keine Seite, die angezeigt werden könnte. Prüfen Sie die Adresse oder kehren Sie zur Anwendung zurück, von der Sie kamen.',
    'errors.rate_limited_title': 'Zu viele Anfragen',
    'errors.rate_limited': 'Dieser Browser oder dieses Netzwerk hat zu viele Anfragen gesendet. Versuchen Sie es {wait} erneut.',
  },
} as const;
