/**
 * Audit records (spec/format.md, "Audit log"): the pure codec of the record every changing
 * command appends to `cairn-log/`, and the redaction that keeps secrets out of its arguments.
 * Level 2: no I/O; storing and listing records is the repository's (src/repository/audit.ts).
 */
export {
  encodeAuditRecord, decodeAuditRecord, redactArgs, REDACTED, MAX_AUDIT_RECORD_SIZE, MAX_AUDIT_PACK_IDS,
  type AuditRecord, type AuditResult, type AuditIdChanges, type AuditPackChanges,
} from './record.js';
