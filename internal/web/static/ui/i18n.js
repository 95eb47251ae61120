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
