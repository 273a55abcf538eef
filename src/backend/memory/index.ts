/**
 * The in-memory backend (for tests): the backend contract over a Map, with helpers to inspect
 * and damage stored bytes and a hook to make operations fail.
 */
export { MemoryBackend, type MemoryBackendOptions, type MemoryFaultHook, type MemoryOperation } from './memory-backend.js';
