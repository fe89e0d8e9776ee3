// Input of strata-place.mlir (DEPTH): hand-written h100-sxm schedules of
// the 4096^3 bf16 matmul, 256x256 output tiles, K in steps of 64 (32 KiB
// per A or B tile), with more rotating buffers than 228 KiB of shared
// memory holds.

// Four stages: 2 x 4 x 32 KiB = 256 KiB. Three (the tile pass's choice)
// fit: 192 KiB.
func.func @stages(%x: tensor<4096x4096xbf16>, %y: tensor<4096x4096xbf16>,
                  %z: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = tile.kernel "stages" ins(%x, %y : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>)
                            outs(%z : tensor<4096x4096xf32>) {
  ^bb0(%A: !tile.buf<4096x4096xbf16, "hbm">, %B: !tile.buf<4096x4096xbf16, "hbm">,
       %C: !tile.buf<4096x4096xf32, "hbm">):
    tile.spread cores(132) over (%m, %n) in (16, 16) {
      %acc = tile.alloc : !tile.buf<256x256xf32, "rf">
      %a = tile.alloc buffers(4) : !tile.buf<256x64xbf16, "smem">
      %b = tile.alloc buffers(4) : !tile.buf<64x256xbf16, "smem">
      tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<256x256xf32, "rf">
      tile.loop %k in 64 pipeline(4) {
        %ta = tile.copy %A[%m, %k] -> %a bytes(32768)
            : !tile.buf<4096x4096xbf16, "hbm"> -> !tile.buf<256x64xbf16, "smem">
        %tb = tile.copy %B[%k, %n] -> %b bytes(32768)
            : !tile.buf<4096x4096xbf16, "hbm"> -> !tile.buf<64x256xbf16, "smem">
        tile.wait %ta, %tb
        tile.mma %a, %b, %acc on "tensor"
            : !tile.buf<256x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">,
              !tile.buf<256x256xf32, "rf">
      }
      %tc = tile.copy %acc -> %C[%m, %n] bytes(262144)
          : !tile.buf<256x256xf32, "rf"> -> !tile.buf<4096x4096xf32, "hbm">
      tile.wait %tc
    }
  } -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}

// A three-stage loop, but %b rotates through five buffers: 3 x 32 + 5 x 32
// = 256 KiB. Taking a buffer from %a would take a stage from the loop;
// the estimate is the same either way (it overlaps from two stages on),
// so the buffer %b has beyond the loop's depth goes: 224 KiB.
func.func @excess(%x: tensor<4096x4096xbf16>, %y: tensor<4096x4096xbf16>,
                  %z: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = tile.kernel "excess" ins(%x, %y : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>)
                            outs(%z : tensor<4096x4096xf32>) {
  ^bb0(%A: !tile.buf<4096x4096xbf16, "hbm">, %B: !tile.buf<4096x4096xbf16, "hbm">,
       %C: !tile.buf<4096x4096xf32, "hbm">):
    tile.spread cores(132) over (%m, %n) in (16, 16) {
      %acc = tile.alloc : !tile.buf<256x256xf32, "rf">
      %a = tile.alloc buffers(3) : !tile.buf<256x64xbf16, "smem">
      %b = tile.alloc buffers(5) : !tile.buf<64x256xbf16, "smem">
      tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<256x256xf32, "rf">
      tile.loop %k in 64 pipeline(3) {
        %ta = tile.copy %A[%m, %k] -> %a bytes(32768)
            : !tile.buf<4096x4096xbf16, "hbm"> -> !tile.buf<256x64xbf16, "smem">
        %tb = tile.copy %B[%k, %n] -> %b bytes(32768)
            : !tile.buf<4096x4096xbf16, "hbm"> -> !tile.buf<64x256xbf16, "smem">
        tile.wait %ta, %tb
        tile.mma %a, %b, %acc on "tensor"
            : !tile.buf<256x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">,
              !tile.buf<256x256xf32, "rf">
      }
      %tc = tile.copy %acc -> %C[%m, %n] bytes(262144)
          : !tile.buf<256x256xf32, "rf"> -> !tile.buf<4096x4096xf32, "hbm">
      tile.wait %tc
    }
  } -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}
