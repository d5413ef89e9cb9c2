export * from './deferred.js';
export * from './dialects.js';
export * from './expect-error.js';
export * from './fixtures.js';
export * from './hooks.js';
export * from './wait.js';
export * from './migrations.js';
