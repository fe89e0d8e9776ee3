// RUN: strata-opt %s -split-input-file --strata-set-system=system=h100-sxm --strata-place -verify-diagnostics -o /dev/null


// Each buffer fits the 228 KiB of shared memory alone; together they do
// not: the kernel cannot be placed.
func.func @overflow(%a: tensor<1024x1024xbf16>) -> tensor<1024x1024xbf16> {
  // expected-error @+1 {{kernel 'too_big' cannot be placed: its buffers need 256 KiB of 'smem' per core but an instance holds 228 KiB}}
  %r = tile.kernel "too_big" outs(%a : tensor<1024x1024xbf16>) {
  ^bb0(%A: !tile.buf<1024x1024xbf16, "hbm">):
    tile.spread cores(132) over (%i) in (8) {
      // expected-note @+1 {{2 x 64 KiB}}
      %x = tile.alloc buffers(2) : !tile.buf<256x128xbf16, "smem">
      // expected-note @+1 {{1 x 128 KiB}}
      %y = tile.alloc : !tile.buf<512x128xbf16, "smem">
      %t = tile.copy %x -> %A[%i, %i] bytes(65536) : !tile.buf<256x128xbf16, "smem"> -> !tile.buf<1024x1024xbf16, "hbm">
      tile.wait %t
    }
  } -> tensor<1024x1024xbf16>
  return %r : tensor<1024x1024xbf16>
}
