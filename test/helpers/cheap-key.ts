/**
 * Test helper: makes a restic repository cheap to open (restic's key file swapped for one with
 * N=1024, r=8, p=1 sealing the same master key). The repository is still made and used by restic
 * only. The product's benchmark does the same; this is that function.
 */
export { cheapenResticKey } from '../../src/benchmark/tools.js';
