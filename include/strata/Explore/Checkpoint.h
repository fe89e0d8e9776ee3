//===- Checkpoint.h - Finished chunks of a sweep, on disk -------*- C++ -*-===//
//
// A sweep is cut into chunks of consecutive points of one plan. Each
// finished chunk is written to `<out>/checkpoint/chunk-<i>.bin` (atomically:
// a temporary file renamed), with the lowering keys first met in it in
// `chunk-<i>.keys`. The result files are assembled from the chunks in
// order, so they do not depend on which process priced which chunk (MPI)
// or on a run that was stopped and resumed (--resume skips the chunks
// already there). The encoding is a flat binary of the doubles' bits, so a
// number read back is the number written.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_CHECKPOINT_H
#define STRATA_EXPLORE_CHECKPOINT_H

#include "strata/Explore/Engine.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strata::explore {

/// One priced point of a chunk and what its --verify check found.
struct ChunkPoint {
  PointResult result;
  bool verified = false, mismatch = false;
  double verifiedLatency = 0; ///< the re-lowered pipeline's latency
};

struct ChunkResult {
  uint64_t chunk = 0, plan = 0, firstPoint = 0; ///< hardware index
  /// Whether the plan compiled on the base system (else every point is an
  /// invalid row carrying the pipeline's complaint).
  bool compiled = false;
  std::vector<ChunkPoint> points;
};

/// A lowering key and the hardware index of the first point of its plan
/// that has it (its lowering is made for that point's system).
using KeyOrigin = std::pair<std::vector<double>, uint64_t>;

/// Bytes of a value list (llvm::support::endian is overkill: the files
/// are read back on the machine that wrote them, or one like it).
class ByteWriter {
public:
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(llvm::StringRef s) {
    u64(s.size());
    out.append(s.data(), s.size());
  }
  void f64s(const std::vector<double> &v) {
    u64(v.size());
    raw(v.data(), v.size() * sizeof(double));
  }
  std::string &bytes() { return out; }

private:
  void raw(const void *p, size_t n) {
    out.append(static_cast<const char *>(p), n);
  }
  std::string out;
};

class ByteReader {
public:
  explicit ByteReader(llvm::StringRef in) : in(in) {}
  uint64_t u64();
  double f64();
  std::string str();
  std::vector<double> f64s();
  bool ok() const { return good; }
  bool atEnd() const { return pos == in.size(); }

private:
  bool take(void *p, size_t n);
  llvm::StringRef in;
  size_t pos = 0;
  bool good = true;
};

void encodeKeys(ByteWriter &w, const std::vector<KeyOrigin> &keys);
bool decodeKeys(ByteReader &r, std::vector<KeyOrigin> &keys);

/// The checkpoint directory of a sweep writing into `outDir`.
std::string checkpointDir(llvm::StringRef outDir);
std::string chunkPath(llvm::StringRef dir, uint64_t chunk);
std::string keysPath(llvm::StringRef dir, uint64_t chunk);

/// Writes a finished chunk (its keys first, then the chunk, each renamed
/// into place, so a chunk file that exists is whole).
llvm::Error writeChunk(llvm::StringRef dir, const ChunkResult &c,
                       const std::vector<KeyOrigin> &newKeys);
llvm::Expected<ChunkResult> readChunk(llvm::StringRef dir, uint64_t chunk);
llvm::Expected<std::vector<KeyOrigin>> readKeys(llvm::StringRef dir,
                                                uint64_t chunk);

} // namespace strata::explore

#endif // STRATA_EXPLORE_CHECKPOINT_H
