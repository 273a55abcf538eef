;; FastCDC gear scan, bit-exact with fastcdc-rs v2020 (see ../fastcdc-params.ts for the plan).
;;
;; Memory (imported, shared so that worker threads can scan the same bytes):
;;   [0, 2048)     GEAR table, 256 little-endian u64 (the public, seeded or keyed table)
;;   [4096, ...)   input bytes; callers pass absolute addresses
;;
;; scan(p, end, mask, reset) -> i32
;;   Runs h = (h << 1) + GEAR[byte] over p <= q < end, starting from h = 0 when `reset` is 1 and
;;   from the hash the previous call left otherwise (a global), and returns the first q where
;;   (h & mask) == 0, or -1. A cut is one or more calls: mask_s up to the normal size, then mask_l.
;;   Callers split long scans into segments of 64 KiB so that V8 can switch the function to its
;;   optimized tier between calls (a call in progress never switches).
;;   The one-byte recurrence is exactly v2020's two-byte loop: its GEAR_LS step yields 2h, and
;;   (2h & (m << 1)) == 0 iff (h & m) == 0 because no mask uses bit 63.
;;
;; Built twice by scripts/build-wasm.mjs: as written (shared memory, for worker threads) and with
;; the memory import's `shared` removed (private memory, for one thread: copies into a private
;; memory are faster than into a SharedArrayBuffer).
;; The loop is unrolled eight times; addresses stay far below 2^31 (callers keep input under 2 GiB
;; and start at 4096), so end - 8 never wraps.
(module
  (import "env" "memory" (memory 1 32768 shared))
  (global $h (mut i64) (i64.const 0))

  (func (export "scan") (param $p i32) (param $end i32) (param $m i64) (param $reset i32) (result i32)
    (local $h i64)
    (local $end8 i32)
    (local.set $h (select (i64.const 0) (global.get $h) (local.get $reset)))
    (local.set $end8 (i32.sub (local.get $end) (i32.const 8)))
    (block $tail
      (loop $by8
        (br_if $tail (i32.gt_u (local.get $p) (local.get $end8)))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=0 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (local.get $p))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 1)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 2)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=3 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 3)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=4 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 4)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=5 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 5)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=6 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 6)))))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u offset=7 (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (i32.add (local.get $p) (i32.const 7)))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $by8)))
    (block $done
      (loop $by1
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i64.add (i64.shl (local.get $h) (i64.const 1))
          (i64.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $h) (local.get $m)))
          (then (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $by1)))
    (global.set $h (local.get $h))
    (i32.const -1))

)
