// Input of strata-place.mlir (SPILL): a gated residual matmul on mesh-sram
// (48 KiB of SRAM per core), out = (A B) * G + R, with the G and R tiles
// loaded before the K loop. Live in the loop: accumulator 16 KiB, A and B
// 2 x 8 KiB each, G and R 16 KiB each = 80 KiB. Single-buffering A and B
// leaves 64 KiB; one of G, R must go to DRAM.
func.func @spill(%x: tensor<4096x4096xbf16>, %y: tensor<4096x4096xbf16>,
                 %g: tensor<4096x4096xf32>, %res: tensor<4096x4096xf32>,
                 %z: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = tile.kernel "gated" ins(%x, %y, %g, %res : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>,
                                                  tensor<4096x4096xf32>, tensor<4096x4096xf32>)
                           outs(%z : tensor<4096x4096xf32>) {
  ^bb0(%A: !tile.buf<4096x4096xbf16, "dram">, %B: !tile.buf<4096x4096xbf16, "dram">,
       %G: !tile.buf<4096x4096xf32, "dram">, %R: !tile.buf<4096x4096xf32, "dram">,
       %C: !tile.buf<4096x4096xf32, "dram">):
    tile.spread cores(4096) over (%m, %n) in (64, 64) {
      %gate = tile.alloc : !tile.buf<64x64xf32, "sram">
      %resid = tile.alloc : !tile.buf<64x64xf32, "sram">
      %acc = tile.alloc : !tile.buf<64x64xf32, "sram">
      %a = tile.alloc buffers(2) : !tile.buf<64x64xbf16, "sram">
      %b = tile.alloc buffers(2) : !tile.buf<64x64xbf16, "sram">
      %tg = tile.copy %G[%m, %n] -> %gate bytes(16384)
          : !tile.buf<4096x4096xf32, "dram"> -> !tile.buf<64x64xf32, "sram">
      %tr = tile.copy %R[%m, %n] -> %resid bytes(16384)
          : !tile.buf<4096x4096xf32, "dram"> -> !tile.buf<64x64xf32, "sram">
      tile.fill %acc, 0.0 : f32 on "vector" : !tile.buf<64x64xf32, "sram">
      tile.loop %k in 64 pipeline(2) {
        %ta = tile.copy %A[%m, %k] -> %a bytes(8192)
            : !tile.buf<4096x4096xbf16, "dram"> -> !tile.buf<64x64xbf16, "sram">
        %tb = tile.copy %B[%k, %n] -> %b bytes(8192)
            : !tile.buf<4096x4096xbf16, "dram"> -> !tile.buf<64x64xbf16, "sram">
        tile.wait %ta, %tb
        tile.mma %a, %b, %acc on "matrix"
            : !tile.buf<64x64xbf16, "sram">, !tile.buf<64x64xbf16, "sram">,
              !tile.buf<64x64xf32, "sram">
      }
      tile.wait %tg, %tr
      tile.map mul %acc, %gate -> %acc on "vector"
          : (!tile.buf<64x64xf32, "sram">, !tile.buf<64x64xf32, "sram">) -> !tile.buf<64x64xf32, "sram">
      tile.map add %acc, %resid -> %acc on "vector"
          : (!tile.buf<64x64xf32, "sram">, !tile.buf<64x64xf32, "sram">) -> !tile.buf<64x64xf32, "sram">
      %tc = tile.copy %acc -> %C[%m, %n] bytes(16384)
          : !tile.buf<64x64xf32, "sram"> -> !tile.buf<4096x4096xf32, "dram">
      tile.wait %tc
    }
  } -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}
