// RUN: strata-opt %s -split-input-file --strata-set-system=system=h100-sxm --strata-place -verify-diagnostics -o /dev/null


// Each operand fits the 228 KiB of shared memory alone; the tile.mma needs
// both there at once. Nothing is multi-buffered, and spilling either one
// would need it back in shared memory for the mma: the kernel cannot be
// placed.
func.func @overflow(%a: tensor<1024x1024xbf16>) -> tensor<1024x1024xbf16> {
  // expected-error @+1 {{kernel 'too_big' cannot be placed: its buffers need 256 KiB of 'smem' per core but an instance holds 228 KiB}}
  %r = tile.kernel "too_big" outs(%a : tensor<1024x1024xbf16>) {
  ^bb0(%A: !tile.buf<1024x1024xbf16, "hbm">):
    tile.spread cores(132) over (%i) in (8) {
      // expected-note @+1 {{1 x 128 KiB}}
      %x = tile.alloc : !tile.buf<128x512xbf16, "smem">
      // expected-note @+1 {{1 x 128 KiB}}
      %y = tile.alloc : !tile.buf<512x128xbf16, "smem">
      %acc = tile.alloc : !tile.buf<128x128xf32, "rf">
      %o = tile.alloc : !tile.buf<128x128xbf16, "rf">
      tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<128x128xf32, "rf">
      // expected-note @+1 {{peak: 256 KiB live here}}
      tile.mma %x, %y, %acc on "tensor" padded
          : !tile.buf<128x512xbf16, "smem">, !tile.buf<512x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
      tile.map cast %acc -> %o on "cuda" : (!tile.buf<128x128xf32, "rf">) -> !tile.buf<128x128xbf16, "rf">
      %t = tile.copy %o -> %A[%i, %i] bytes(32768) : !tile.buf<128x128xbf16, "rf"> -> !tile.buf<1024x1024xbf16, "hbm">
      tile.wait %t
    }
  } -> tensor<1024x1024xbf16>
  return %r : tensor<1024x1024xbf16>
}
