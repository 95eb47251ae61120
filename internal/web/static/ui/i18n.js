// Console texts in English and Spanish. Keys missing from Spanish fall back
// to English so a half-translated string never shows as a raw key.

const en = {
  product: 'Centralita',
  loading: 'Loading…',
  signingIn: 'Signing in…',
  signInAgain: 'Sign in again',
  signInFailed: 'Sign-in failed',
  stateMismatch: 'The sign-in answer did not match this browser session.',
  language: 'Language',
  logOut: 'Log out',
  signedInAs: 'Signed in as',
  sections: 'Sections',
  apiDocs: 'API docs',
  openapi: 'OpenAPI document',
  forbidden: 'Not allowed for your role',
  httpError: 'Request failed (HTTP {status})',
  networkError: 'The server could not be reached.',
  users: 'Users', devices: 'Devices', skills: 'Skills', queues: 'Queues',
  wrapupcodes: 'Wrap-up codes', presence: 'Presence', clients: 'OAuth clients',
  name: 'Name', username: 'Username', email: 'Email', password: 'Password',
  role: 'Role', roles: 'Roles', state: 'State', type: 'Type', status: 'Status',
  remoteNumber: 'Remote number', description: 'Description',
  category: 'Category', subcategory: 'Subcategory', noCategory: 'No category',
  label: 'Label', breakNumber: 'Break number', systemPresence: 'System presence',
  deactivated: 'Deactivated', id: 'ID', grantType: 'Grant type',
  tokenValidity: 'Token validity (seconds)', members: 'Members',
  joined: 'Joined', ringNumber: 'Ring number',
  yes: 'Yes', no: 'No',
  create: 'Create', actions: 'Actions', delete: 'Delete', remove: 'Remove', remote: 'Remote',
  createUser: 'Create user', createDevice: 'Create device', createSkill: 'Create skill',
  createQueue: 'Create queue', createWrapup: 'Create wrap-up code',
  createPresence: 'Create break state', createClient: 'Create OAuth client',
  deleteItem: 'Delete {name}',
  empty: 'Nothing here yet.',
  previous: 'Previous page', next: 'Next page', pagination: 'Pagination',
  pageOf: 'Page {page} of {pages} · {total} total',
  showMembers: 'Members of {name}', closeMembers: 'Close members',
  membersOf: 'Members of queue {name}',
  addMember: 'Add member', user: 'User', chooseUser: 'Choose a user…',
  removeMember: 'Remove {name}',
  secretTitle: 'Client secret for {name}',
  secretNotice: 'Copy it now: it will not be shown again.',
  clientId: 'Client ID', clientSecret: 'Client secret',
  copy: 'Copy', copied: 'Copied', dismiss: 'Dismiss',
  created: 'Created.', deleted: 'Deleted.',
  agent: 'Agent',
  station: 'Station', device: 'Device', devicePassword: 'Device password',
  deviceLogIn: 'Log in', deviceLogOut: 'Log out',
  agentStatus: 'Status', currentPresence: 'Presence now', presenceSelect: 'Presence',
  onQueue: 'On queue', offQueue: 'Off queue', routingStatus: 'Routing status',
  needStation: 'Log into a device to go on queue.',
  rs_OFF_QUEUE: 'Off queue', rs_IDLE: 'Idle', rs_INTERACTING: 'Interacting',
  rs_NOT_RESPONDING: 'Not responding', rs_COMMUNICATING: 'Communicating',
  liveOn: 'Live updates on.', liveConnecting: 'Connecting live updates…',
  liveDown: 'Live updates unavailable: checking every few seconds.',
  calls: 'Calls', noCalls: 'No calls right now.', callWith: 'Call with {party}', ringingNotice: 'Incoming call from {party}.', unknownCaller: 'Unknown caller',
  queue: 'Queue', inbound: 'Inbound', outbound: 'Outbound',
  callAlerting: 'Ringing', callDialing: 'Dialing', callConnected: 'Connected', callHeld: 'On hold',
  callMuted: 'Muted', callWrapup: 'Wrap-up', callEnded: 'Ended',
  answer: 'Answer', decline: 'Decline', hangUp: 'Hang up', hold: 'Hold', resume: 'Resume', mute: 'Mute',
  digits: 'Digits', sendDtmf: 'Send DTMF',
  transfer: 'Transfer', transferTo: 'Transfer to', number: 'Number', target: 'Target',
  chooseTarget: 'Choose…', directTransfer: 'Direct transfer',
  categorize: 'Categorize', wrapupCode: 'Wrap-up code', chooseCode: 'Choose a code…', notes: 'Notes',
  wrapupDone: 'Done', wrapupSkip: 'Skip',
  wrapupRequired: 'This queue needs a wrap-up code before the next call.',
  wrapupOptional: 'Optional: categorize the call, or skip.',
  simulateTitle: 'Simulate a call', simulateCall: 'Simulate a call',
  simulateHint: 'Demo only: a simulated customer calls a queue; an agent on queue gets it.',
  simTo: 'To', simFrom: 'From', simulated: 'Call sent to {to}.',
  simulationDisabled: 'Call simulation is only available in the demo.',
};

const es = {
  loading: 'Cargando…',
  signingIn: 'Iniciando sesión…',
  signInAgain: 'Volver a iniciar sesión',
  signInFailed: 'No se pudo iniciar sesión',
  stateMismatch: 'La respuesta de inicio de sesión no corresponde a esta sesión del navegador.',
  language: 'Idioma',
  logOut: 'Cerrar sesión',
  signedInAs: 'Sesión de',
  sections: 'Secciones',
  apiDocs: 'Documentación de la API',
  openapi: 'Documento OpenAPI',
  forbidden: 'No permitido para tu rol',
  httpError: 'La petición falló (HTTP {status})',
  networkError: 'No se pudo contactar con el servidor.',
  users: 'Usuarios', devices: 'Dispositivos', skills: 'Habilidades', queues: 'Colas',
  wrapupcodes: 'Códigos de cierre', presence: 'Presencia', clients: 'Clientes OAuth',
  name: 'Nombre', username: 'Usuario', email: 'Correo', password: 'Contraseña',
  role: 'Rol', roles: 'Roles', state: 'Estado', type: 'Tipo', status: 'Estado',
  remoteNumber: 'Número remoto', description: 'Descripción',
  category: 'Categoría', subcategory: 'Subcategoría', noCategory: 'Sin categoría',
  label: 'Etiqueta', breakNumber: 'Número de pausa', systemPresence: 'Presencia del sistema',
  deactivated: 'Desactivado', id: 'ID', grantType: 'Tipo de concesión',
  tokenValidity: 'Validez del token (segundos)', members: 'Miembros',
  joined: 'Unido', ringNumber: 'Número de timbrado',
  yes: 'Sí', no: 'No',
  create: 'Crear', actions: 'Acciones', delete: 'Eliminar', remove: 'Quitar', remote: 'Remoto',
  createUser: 'Crear usuario', createDevice: 'Crear dispositivo', createSkill: 'Crear habilidad',
  createQueue: 'Crear cola', createWrapup: 'Crear código de cierre',
  createPresence: 'Crear estado de pausa', createClient: 'Crear cliente OAuth',
  deleteItem: 'Eliminar {name}',
  empty: 'Todavía no hay nada.',
  previous: 'Página anterior', next: 'Página siguiente', pagination: 'Paginación',
  pageOf: 'Página {page} de {pages} · {total} en total',
  showMembers: 'Miembros de {name}', closeMembers: 'Cerrar miembros',
  membersOf: 'Miembros de la cola {name}',
  addMember: 'Añadir miembro', user: 'Usuario', chooseUser: 'Elige un usuario…',
  removeMember: 'Quitar a {name}',
  secretTitle: 'Secreto del cliente {name}',
  secretNotice: 'Cópialo ahora: no se volverá a mostrar.',
  clientId: 'ID de cliente', clientSecret: 'Secreto del cliente',
  copy: 'Copiar', copied: 'Copiado', dismiss: 'Cerrar',
  created: 'Creado.', deleted: 'Eliminado.',
  agent: 'Agente',
  station: 'Puesto', device: 'Dispositivo', devicePassword: 'Contraseña del dispositivo',
  deviceLogIn: 'Entrar', deviceLogOut: 'Salir',
  agentStatus: 'Estado', currentPresence: 'Presencia actual', presenceSelect: 'Presencia',
  onQueue: 'En cola', offQueue: 'Fuera de cola', routingStatus: 'Estado de enrutamiento',
  needStation: 'Entra en un dispositivo para ponerte en cola.',
  rs_OFF_QUEUE: 'Fuera de cola', rs_IDLE: 'Libre', rs_INTERACTING: 'Interactuando',
  rs_NOT_RESPONDING: 'Sin respuesta', rs_COMMUNICATING: 'Comunicando',
  liveOn: 'Actualizaciones en directo activas.', liveConnecting: 'Conectando las actualizaciones en directo…',
  liveDown: 'Sin actualizaciones en directo: se consulta cada pocos segundos.',
  calls: 'Llamadas', noCalls: 'No hay llamadas ahora.', callWith: 'Llamada con {party}', ringingNotice: 'Llamada entrante de {party}.', unknownCaller: 'Número oculto',
  queue: 'Cola', inbound: 'Entrante', outbound: 'Saliente',
  callAlerting: 'Sonando', callDialing: 'Llamando', callConnected: 'Conectada', callHeld: 'En espera',
  callMuted: 'Silenciada', callWrapup: 'Cierre', callEnded: 'Finalizada',
  answer: 'Contestar', decline: 'Rechazar', hangUp: 'Colgar', hold: 'Retener', resume: 'Recuperar', mute: 'Silenciar',
  digits: 'Dígitos', sendDtmf: 'Enviar DTMF',
  transfer: 'Transferir', transferTo: 'Transferir a', number: 'Número', target: 'Destino',
  chooseTarget: 'Elige…', directTransfer: 'Transferencia directa',
  categorize: 'Tipificar', wrapupCode: 'Código de cierre', chooseCode: 'Elige un código…', notes: 'Notas',
  wrapupDone: 'Listo', wrapupSkip: 'Omitir',
  wrapupRequired: 'Esta cola pide un código de cierre antes de la siguiente llamada.',
  wrapupOptional: 'Opcional: tipifica la llamada u omítelo.',
  simulateTitle: 'Simular una llamada', simulateCall: 'Simular una llamada',
  simulateHint: 'Solo en la demo: un cliente simulado llama a una cola y la recibe un agente en cola.',
  simTo: 'Para', simFrom: 'Desde', simulated: 'Llamada enviada a {to}.',
  simulationDisabled: 'La simulación de llamadas solo está disponible en la demo.',
};

const dictionaries = { en, es };
export const languages = [['en', 'English'], ['es', 'Español']];

const STORAGE_KEY = 'centralita.lang';

function detect() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved in dictionaries) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('es') ? 'es' : 'en';
}

let current = detect();
document.documentElement.lang = current;

export function getLang() {
  return current;
}

// The choice is remembered because navigator.language is often the OS
// language, not what the agent wants to read.
export function setLang(lang) {
  current = lang in dictionaries ? lang : 'en';
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
}

export function t(key, params = {}) {
  const text = dictionaries[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
