// The softphone's own texts (text messages, CRM links, sessions), in
// English and Spanish, in the console's language (ui/i18n.js's choice).
// Kept here so the softphone's parts can change without the console's
// dictionary; missing Spanish falls back to English.

import { translator } from '/ui/i18n.js';

const en = {
  message: 'Message', sendMessage: 'Send message', channel: 'Channel', sms: 'SMS', whatsapp: 'WhatsApp',
  to: 'To', text: 'Text', chars: '{n} / {max}', messageAccepted: 'Message accepted; delivering…',
  messageDelivered: 'Message delivered.', messageFailed: 'The message could not be delivered: {reason}',
  messagesOff: 'This call center does not allow text messages.',
  linkedTo: 'Call linked to {name}.', sessionExpired: 'Your session has expired: sign in again.',
  logSaved: 'Call log saved in the CRM.',
};

const es = {
  message: 'Mensaje', sendMessage: 'Enviar mensaje', channel: 'Canal', sms: 'SMS', whatsapp: 'WhatsApp',
  to: 'Para', text: 'Texto', chars: '{n} / {max}', messageAccepted: 'Mensaje aceptado; entregando…',
  messageDelivered: 'Mensaje entregado.', messageFailed: 'No se pudo entregar el mensaje: {reason}',
  messagesOff: 'Este centro de llamadas no permite enviar mensajes.',
  linkedTo: 'Llamada vinculada a {name}.', sessionExpired: 'Tu sesión ha caducado: vuelve a iniciar sesión.',
  logSaved: 'Registro de la llamada guardado en el CRM.',
};

export const tt = translator({ en, es });
