/** Strings shared by every page: the frame, the error pages and the buttons that recur. */
export const commonMessages = {
  en: {
    'common.support_reference': 'Support reference: {requestId}',
  },
  de: {
    'common.support_reference': 'Support-Referenz: {requestId}',
  },
} as const;
