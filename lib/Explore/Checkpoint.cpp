//===- Checkpoint.cpp - Finished chunks of a sweep, on disk ---------------===//

#include "strata/Explore/Checkpoint.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <memory>

using namespace llvm;

namespace strata::explore {

namespace {
constexpr uint64_t kChunkMagic = 0x314b4843'41525453ull; // "STRACHK1"
constexpr uint64_t kKeysMagic = 0x3159454b'41525453ull;  // "STRAKEY1"

void encodeMetrics(ByteWriter &w, const Metrics &m, const Metrics *previous) {
  for (double v : {m.latency, m.energy, m.flops, m.tokens, m.tokensPerSecond,
                   m.energyPerToken, m.mfu, m.footprint, m.capacity})
    w.f64(v);
  w.str(m.capacityLevel);
  // Block names are shared by the points of a lowering: written once per
  // run of points with the same list.
  bool same = previous && previous->blockNames == m.blockNames;
  w.u64(same ? 1 : !m.blockNames ? 2 : 0);
  if (!same && m.blockNames) {
    size_t n = m.blockNames->size();
    w.u64(n);
    for (size_t i = 0; i < n; ++i)
      w.str((*m.blockNames)[i]);
  }
  w.f64s(m.blockTime);
  w.f64s(m.blockEnergy);
  w.str(m.largestBlock);
  w.str(m.boundBy);
}

bool decodeMetrics(ByteReader &r, Metrics &m, const Metrics *previous) {
  for (double *v : {&m.latency, &m.energy, &m.flops, &m.tokens,
                    &m.tokensPerSecond, &m.energyPerToken, &m.mfu,
                    &m.footprint, &m.capacity})
    *v = r.f64();
  m.capacityLevel = r.str();
  uint64_t names = r.u64();
  if (names == 1) {
    if (!previous)
      return false;
    m.blockNames = previous->blockNames;
  } else if (names == 0) {
    uint64_t n = r.u64();
    if (!r.ok() || n > (1u << 20))
      return false;
    auto list = std::make_shared<std::vector<std::string>>(n);
    for (std::string &s : *list) {
      if (!r.ok())
        return false;
      s = r.str();
    }
    m.blockNames = std::move(list);
  }
  m.blockTime = r.f64s();
  m.blockEnergy = r.f64s();
  m.largestBlock = r.str();
  m.boundBy = r.str();
  return r.ok();
}

Error writeAtomically(StringRef path, const std::string &bytes) {
  std::string tmp = (path + ".tmp").str();
  {
    std::error_code ec;
    raw_fd_ostream os(tmp, ec);
    if (ec)
      return createStringError(ec, "cannot write '" + tmp + "'");
    os << bytes;
    os.close();
    if (os.has_error())
      return createStringError(os.error(), "cannot write '" + tmp + "'");
  }
  if (std::error_code ec = sys::fs::rename(tmp, path))
    return createStringError(ec, "cannot rename '" + tmp + "'");
  return Error::success();
}

Expected<std::unique_ptr<MemoryBuffer>> readFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buf = MemoryBuffer::getFile(path);
  if (!buf)
    return createStringError(buf.getError(), "cannot read '" + path + "'");
  return std::move(*buf);
}

Error corrupt(StringRef path) {
  return createStringError(inconvertibleErrorCode(),
                           "'" + path +
                               "' is not a strata-explore checkpoint chunk "
                               "(remove the checkpoint or run without "
                               "--resume)");
}
} // namespace

bool ByteReader::take(void *p, size_t n) {
  // An empty read may come with a null destination (an empty vector's
  // data()), which memcpy and memset must not be given.
  if (n == 0)
    return good;
  if (!good || in.size() - pos < n) {
    good = false;
    std::memset(p, 0, n);
    return false;
  }
  std::memcpy(p, in.data() + pos, n);
  pos += n;
  return true;
}

uint64_t ByteReader::u64() {
  uint64_t v;
  take(&v, sizeof v);
  return v;
}

double ByteReader::f64() {
  double v;
  take(&v, sizeof v);
  return v;
}

std::string ByteReader::str() {
  uint64_t n = u64();
  if (!good || in.size() - pos < n) {
    good = false;
    return {};
  }
  std::string s(in.data() + pos, n);
  pos += n;
  return s;
}

std::vector<double> ByteReader::f64s() {
  uint64_t n = u64();
  if (!good || (in.size() - pos) / sizeof(double) < n) {
    good = false;
    return {};
  }
  std::vector<double> v(n);
  take(v.data(), n * sizeof(double));
  return v;
}

void encodeKeys(ByteWriter &w, const std::vector<KeyOrigin> &keys) {
  w.u64(keys.size());
  for (const KeyOrigin &k : keys) {
    w.u64(k.second);
    w.f64s(k.first);
  }
}

bool decodeKeys(ByteReader &r, std::vector<KeyOrigin> &keys) {
  uint64_t n = r.u64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    uint64_t origin = r.u64();
    keys.push_back({r.f64s(), origin});
  }
  return r.ok();
}

std::string checkpointDir(StringRef outDir) {
  SmallString<256> p(outDir);
  sys::path::append(p, "checkpoint");
  return p.str().str();
}

std::string chunkPath(StringRef dir, uint64_t chunk) {
  SmallString<256> p(dir);
  sys::path::append(p, "chunk-" + std::to_string(chunk) + ".bin");
  return p.str().str();
}

std::string keysPath(StringRef dir, uint64_t chunk) {
  SmallString<256> p(dir);
  sys::path::append(p, "chunk-" + std::to_string(chunk) + ".keys");
  return p.str().str();
}

Error writeChunk(StringRef dir, const ChunkResult &c,
                 const std::vector<KeyOrigin> &newKeys) {
  ByteWriter k;
  k.u64(kKeysMagic);
  encodeKeys(k, newKeys);
  if (Error e = writeAtomically(keysPath(dir, c.chunk), k.bytes()))
    return e;
  ByteWriter w;
  w.u64(kChunkMagic);
  w.u64(c.chunk);
  w.u64(c.plan);
  w.u64(c.firstPoint);
  w.u64(c.compiled ? 1 : 0);
  w.u64(c.points.size());
  const Metrics *previous = nullptr;
  for (const ChunkPoint &p : c.points) {
    const PointResult &r = p.result;
    w.u64((r.valid ? 1 : 0) | (r.relowered ? 2 : 0) | (r.lowered ? 4 : 0) |
          (p.verified ? 8 : 0) | (p.mismatch ? 16 : 0));
    w.str(r.problem);
    w.str(r.why);
    w.u64(r.lowering);
    w.f64(p.verifiedLatency);
    encodeMetrics(w, r.metrics, previous);
    previous = &r.metrics;
  }
  return writeAtomically(chunkPath(dir, c.chunk), w.bytes());
}

Expected<ChunkResult> readChunk(StringRef dir, uint64_t chunk) {
  std::string path = chunkPath(dir, chunk);
  Expected<std::unique_ptr<MemoryBuffer>> buf = readFile(path);
  if (!buf)
    return buf.takeError();
  ByteReader r((*buf)->getBuffer());
  ChunkResult c;
  if (r.u64() != kChunkMagic)
    return corrupt(path);
  c.chunk = r.u64();
  c.plan = r.u64();
  c.firstPoint = r.u64();
  c.compiled = r.u64() == 1;
  uint64_t n = r.u64();
  if (!r.ok() || c.chunk != chunk || n > (*buf)->getBufferSize())
    return corrupt(path);
  c.points.resize(n);
  const Metrics *previous = nullptr;
  for (ChunkPoint &p : c.points) {
    PointResult &pr = p.result;
    uint64_t flags = r.u64();
    pr.valid = flags & 1;
    pr.relowered = flags & 2;
    pr.lowered = flags & 4;
    p.verified = flags & 8;
    p.mismatch = flags & 16;
    pr.problem = r.str();
    pr.why = r.str();
    pr.lowering = r.u64();
    p.verifiedLatency = r.f64();
    if (!decodeMetrics(r, pr.metrics, previous))
      return corrupt(path);
    previous = &pr.metrics;
  }
  if (!r.ok() || !r.atEnd())
    return corrupt(path);
  return c;
}

Expected<std::vector<KeyOrigin>> readKeys(StringRef dir, uint64_t chunk) {
  std::string path = keysPath(dir, chunk);
  Expected<std::unique_ptr<MemoryBuffer>> buf = readFile(path);
  if (!buf)
    return buf.takeError();
  ByteReader r((*buf)->getBuffer());
  std::vector<KeyOrigin> keys;
  if (r.u64() != kKeysMagic || !decodeKeys(r, keys) || !r.atEnd())
    return corrupt(path);
  return keys;
}

} // namespace strata::explore
