/** Strings shared by every page: the frame, the error pages and the buttons that recur. */
export const commonMessages = {
  en: {
    'common.support_reference': 'Support reference: {requestId}',
    'common.help': 'Help',
    'common.contact_support': 'Contact support',
    'common.technical_details': 'Technical details',
    'common.continue': 'Continue',
    'common.form_post_noscript': 'JavaScript is off: press Continue to return to the application.',
    'common.return_to': 'Return to {name}',
    'common.site_navigation': 'Help and support',
  },
  de: {
    'common.support_reference': 'Support-Referenz: {requestId}',
    'common.help': 'Hilfe',
    'common.contact_support': 'Support kontaktieren',
    'common.technical_details': 'Technische Details',
    'common.continue': 'Weiter',
    'common.form_post_noscript': 'JavaScript ist ausgeschaltet: Wählen Sie „Weiter“, um zur Anwendung zurückzukehren.',
    'common.return_to': 'Zurück zu {name}',
    'common.site_navigation': 'Hilfe und Support',
  },
} as const;
