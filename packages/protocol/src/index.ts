export * from './events.js';
export * from './rooms.js';
export * from './messages.js';
export * from './errors.js';
export * from './schemas.js';
export * from './envelopes.js';
export * from './maps.js';
export * from './catalogue.js';
