//===- Json.cpp - JSON form of a hardware description ---------------------===//
//
// Field names are the `#arch.*` attribute parameter names, and the problem
// paths produced here use the same spelling as validate()'s, so an error in
// a JSON file and an error in the IR point at the same field the same way:
// "chip.memory[2].capacity: ...".
//
// The reader walks the document itself instead of using llvm::json::Path:
// Path::Root keeps only the last error and prefixes paths with "(root)",
// whereas a user fixing a description wants every problem at once, in the
// same form validate() reports them.
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/Json.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdio>
#include <cstring>

using namespace strata::hw;
namespace json = llvm::json;

//===----------------------------------------------------------------------===//
// Export
//===----------------------------------------------------------------------===//

namespace {
// Owned strings: json::Value keeps a StringRef as a reference.
std::string str(std::string_view s) { return std::string(s); }

json::Array dims(const std::vector<int64_t> &v) {
  json::Array a;
  for (int64_t d : v)
    a.push_back(d);
  return a;
}

json::Value unitToJSON(const ComputeUnit &u) {
  json::Object rates;
  for (const auto &[t, r] : u.rates)
    rates[str(toString(t))] = r;
  json::Object o{{"name", u.name},
                 {"kind", str(toString(u.kind))},
                 {"shape", dims(u.shape)},
                 {"rates", std::move(rates)},
                 {"efficiency", u.efficiency}};
  if (u.asynchronous)
    o["asynchronous"] = true;
  return o;
}

json::Value levelToJSON(const MemoryLevel &l) {
  return json::Object{{"name", l.name},
                      {"scope", str(toString(l.scope))},
                      {"management", str(toString(l.management))},
                      {"capacity", l.capacity},
                      {"bandwidth", l.readBandwidth},
                      {"write_bandwidth", l.writeBandwidth},
                      {"latency", l.latency},
                      {"energy", l.energyPerByte},
                      {"efficiency", l.efficiency}};
}

json::Value chipToJSON(const Chip &c) {
  json::Array units, memory;
  for (const ComputeUnit &u : c.units)
    units.push_back(unitToJSON(u));
  for (const MemoryLevel &l : c.memory)
    memory.push_back(levelToJSON(l));
  json::Value grid = nullptr, noc = nullptr;
  if (c.grid)
    grid = json::Array{(*c.grid)[0], (*c.grid)[1]};
  if (c.noc)
    noc = json::Object{{"kind", str(toString(c.noc->kind))},
                       {"bandwidth", c.noc->linkBandwidth},
                       {"hop_latency", c.noc->hopLatency},
                       {"energy", c.noc->energyPerByte}};
  return json::Object{{"name", c.name},
                      {"clock", c.clock},
                      {"cores", c.cores},
                      {"grid", std::move(grid)},
                      {"units", std::move(units)},
                      {"memory", std::move(memory)},
                      {"noc", std::move(noc)},
                      {"static_power", c.staticPower},
                      {"launch_overhead", c.launchOverhead},
                      {"graph_node_overhead", c.graphNodeOverhead}};
}

json::Value fabricToJSON(const Fabric &f) {
  return json::Object{{"name", f.name},
                      {"kind", str(toString(f.kind))},
                      {"shape", dims(f.shape)},
                      {"bandwidth", f.bandwidth},
                      {"latency", f.latency},
                      {"energy", f.energyPerByte},
                      {"in_network_reduction", f.inNetworkReduction},
                      {"efficiency", f.efficiency}};
}
} // namespace

json::Value strata::hw::toJSON(const System &s) {
  json::Array topology;
  for (const Fabric &f : s.topology)
    topology.push_back(fabricToJSON(f));
  return json::Object{{"schema", kSystemJsonSchemaVersion},
                      {"name", s.name},
                      {"chip", chipToJSON(s.chip)},
                      {"devices", s.devices},
                      {"topology", std::move(topology)}};
}

//===----------------------------------------------------------------------===//
// Import
//===----------------------------------------------------------------------===//

namespace {
std::string field(const std::string &path, llvm::StringRef key) {
  return path.empty() ? key.str() : path + "." + key.str();
}
std::string element(const std::string &path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

/// An object being read: remembers which keys were consumed so that the
/// rest can be reported as unknown fields.
struct Obj {
  const json::Object *o = nullptr;
  std::string path;
  llvm::StringSet<> seen;
};

class Reader {
public:
  std::vector<Problem> problems;
  /// Fields absent from the text whose values were copied from another.
  llvm::StringSet<> derived;

  void error(std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  }

  std::optional<Obj> object(const json::Value &v, std::string path) {
    const json::Object *o = v.getAsObject();
    if (!o) {
      error(path, "expected an object");
      return std::nullopt;
    }
    Obj r;
    r.o = o;
    r.path = std::move(path);
    return r;
  }

  /// The value of `key`, or null (with an error when `required`). A JSON
  /// null counts as absent.
  const json::Value *get(Obj &o, llvm::StringRef key, bool required) {
    o.seen.insert(key);
    const json::Value *v = o.o->get(key);
    if (v && v->kind() == json::Value::Null)
      v = nullptr;
    if (!v && required)
      error(field(o.path, key), "missing required field '" + key.str() + "'");
    return v;
  }

  void str(Obj &o, llvm::StringRef key, std::string &out) {
    if (const json::Value *v = get(o, key, /*required=*/true)) {
      if (std::optional<llvm::StringRef> s = v->getAsString())
        out = s->str();
      else
        error(field(o.path, key), "expected a string");
    }
  }

  void number(Obj &o, llvm::StringRef key, double &out, bool required) {
    if (const json::Value *v = get(o, key, required)) {
      if (std::optional<double> d = v->getAsNumber())
        out = *d;
      else
        error(field(o.path, key), "expected a number");
    }
  }

  void integer(const json::Value &v, const std::string &path, int64_t &out) {
    if (std::optional<int64_t> i = v.getAsInteger())
      out = *i;
    else
      error(path, "expected an integer");
  }

  void integer(Obj &o, llvm::StringRef key, int64_t &out, bool required) {
    if (const json::Value *v = get(o, key, required))
      integer(*v, field(o.path, key), out);
  }

  void bytes(Obj &o, llvm::StringRef key, uint64_t &out) {
    const json::Value *v = get(o, key, /*required=*/true);
    if (!v)
      return;
    if (std::optional<uint64_t> u = v->getAsUINT64()) {
      out = *u;
      return;
    }
    std::optional<int64_t> i = v->getAsInteger();
    if (i && *i >= 0)
      out = static_cast<uint64_t>(*i);
    else
      error(field(o.path, key), "expected a non-negative integer (bytes)");
  }

  void boolean(Obj &o, llvm::StringRef key, bool &out) {
    if (const json::Value *v = get(o, key, /*required=*/false)) {
      if (std::optional<bool> b = v->getAsBoolean())
        out = *b;
      else
        error(field(o.path, key), "expected true or false");
    }
  }

  template <typename E>
  void enumeration(Obj &o, llvm::StringRef key, E &out,
                   std::optional<E> (*parse)(std::string_view),
                   const char *accepted) {
    const json::Value *v = get(o, key, /*required=*/true);
    if (!v)
      return;
    std::optional<llvm::StringRef> s = v->getAsString();
    if (!s) {
      error(field(o.path, key), "expected a string");
      return;
    }
    if (std::optional<E> e = parse(std::string_view(s->data(), s->size())))
      out = *e;
    else
      error(field(o.path, key), llvm::formatv("unknown {0} '{1}' (expected "
                                              "one of {2})",
                                              key, *s, accepted)
                                    .str());
  }

  const json::Array *array(Obj &o, llvm::StringRef key, bool required) {
    const json::Value *v = get(o, key, required);
    if (!v)
      return nullptr;
    const json::Array *a = v->getAsArray();
    if (!a)
      error(field(o.path, key), "expected an array");
    return a;
  }

  void dims(Obj &o, llvm::StringRef key, std::vector<int64_t> &out,
            bool required) {
    const json::Array *a = array(o, key, required);
    if (!a)
      return;
    out.clear();
    for (size_t i = 0; i < a->size(); ++i) {
      int64_t d = 0;
      integer((*a)[i], element(field(o.path, key), i), d);
      out.push_back(d);
    }
  }

  void finish(const Obj &o) {
    // Sorted so the messages come out in a stable order.
    std::vector<std::string> unknown;
    for (const auto &kv : *o.o)
      if (!o.seen.contains(kv.first))
        unknown.push_back(kv.first.str());
    llvm::sort(unknown);
    for (const std::string &k : unknown)
      error(field(o.path, k), "unknown field '" + k + "'");
  }

  ComputeUnit unit(const json::Value &v, std::string path);
  MemoryLevel level(const json::Value &v, std::string path);
  OnChipNetwork noc(const json::Value &v, std::string path);
  Chip chip(const json::Value &v, std::string path);
  Fabric fabric(const json::Value &v, std::string path);
  System system(const json::Value &v);
};

constexpr const char *kDTypes = "f64, f32, tf32, bf16, fp16, fp8, int8, fp4";

ComputeUnit Reader::unit(const json::Value &v, std::string path) {
  ComputeUnit u;
  std::optional<Obj> o = object(v, std::move(path));
  if (!o)
    return u;
  str(*o, "name", u.name);
  enumeration(*o, "kind", u.kind, parseUnitKind, "matrix, vector");
  dims(*o, "shape", u.shape, /*required=*/false);
  if (const json::Value *r = get(*o, "rates", /*required=*/true)) {
    std::string rpath = field(o->path, "rates");
    if (const json::Object *ro = r->getAsObject()) {
      // Canonical dtype order, so a description reads back identically
      // whatever order its author wrote the keys in.
      for (DType t : kAllDTypes)
        if (const json::Value *x = ro->get(toString(t))) {
          if (std::optional<double> d = x->getAsNumber())
            u.rates.emplace_back(t, *d);
          else
            error(field(rpath, toString(t)), "expected a number");
        }
      std::vector<std::string> unknown;
      for (const auto &kv : *ro)
        if (!parseDType(std::string_view(kv.first.str())))
          unknown.push_back(kv.first.str());
      llvm::sort(unknown);
      for (const std::string &k : unknown)
        error(field(rpath, k),
              "unknown dtype '" + k + "' (expected one of " + kDTypes + ")");
    } else {
      error(rpath, "expected an object mapping dtype to FLOP/cycle/core");
    }
  }
  number(*o, "efficiency", u.efficiency, /*required=*/false);
  boolean(*o, "asynchronous", u.asynchronous);
  finish(*o);
  return u;
}

MemoryLevel Reader::level(const json::Value &v, std::string path) {
  MemoryLevel l;
  std::optional<Obj> o = object(v, std::move(path));
  if (!o)
    return l;
  str(*o, "name", l.name);
  enumeration(*o, "scope", l.scope, parseScope, "core, chip, system");
  enumeration(*o, "management", l.management, parseManagement,
              "scratchpad, cache");
  bytes(*o, "capacity", l.capacity);
  number(*o, "bandwidth", l.readBandwidth, /*required=*/true);
  // Defaults to the read bandwidth, as in the attribute; a problem with
  // the copy is the read bandwidth's, reported once.
  l.writeBandwidth = l.readBandwidth;
  if (!o->o->get("write_bandwidth"))
    derived.insert(field(o->path, "write_bandwidth"));
  number(*o, "write_bandwidth", l.writeBandwidth, /*required=*/false);
  number(*o, "latency", l.latency, /*required=*/false);
  number(*o, "energy", l.energyPerByte, /*required=*/false);
  number(*o, "efficiency", l.efficiency, /*required=*/false);
  finish(*o);
  return l;
}

OnChipNetwork Reader::noc(const json::Value &v, std::string path) {
  OnChipNetwork n;
  std::optional<Obj> o = object(v, std::move(path));
  if (!o)
    return n;
  enumeration(*o, "kind", n.kind, parseNocKind, "mesh, torus, crossbar, ring");
  number(*o, "bandwidth", n.linkBandwidth, /*required=*/true);
  number(*o, "hop_latency", n.hopLatency, /*required=*/false);
  number(*o, "energy", n.energyPerByte, /*required=*/false);
  finish(*o);
  return n;
}

Chip Reader::chip(const json::Value &v, std::string path) {
  Chip c;
  std::optional<Obj> o = object(v, std::move(path));
  if (!o)
    return c;
  str(*o, "name", c.name);
  number(*o, "clock", c.clock, /*required=*/true);
  integer(*o, "cores", c.cores, /*required=*/true);
  if (const json::Array *g = array(*o, "grid", /*required=*/false)) {
    std::string gpath = field(o->path, "grid");
    if (g->size() != 2) {
      error(gpath,
            llvm::formatv("expected [rows, cols], got {0} entries", g->size())
                .str());
    } else {
      std::array<int64_t, 2> grid{0, 0};
      integer((*g)[0], element(gpath, 0), grid[0]);
      integer((*g)[1], element(gpath, 1), grid[1]);
      c.grid = grid;
    }
  }
  if (const json::Array *a = array(*o, "units", /*required=*/true))
    for (size_t i = 0; i < a->size(); ++i)
      c.units.push_back(unit((*a)[i], element(field(o->path, "units"), i)));
  if (const json::Array *a = array(*o, "memory", /*required=*/true))
    for (size_t i = 0; i < a->size(); ++i)
      c.memory.push_back(level((*a)[i], element(field(o->path, "memory"), i)));
  if (const json::Value *n = get(*o, "noc", /*required=*/false))
    c.noc = noc(*n, field(o->path, "noc"));
  number(*o, "static_power", c.staticPower, /*required=*/false);
  number(*o, "launch_overhead", c.launchOverhead, /*required=*/false);
  number(*o, "graph_node_overhead", c.graphNodeOverhead, /*required=*/false);
  finish(*o);
  return c;
}

Fabric Reader::fabric(const json::Value &v, std::string path) {
  Fabric f;
  std::optional<Obj> o = object(v, std::move(path));
  if (!o)
    return f;
  str(*o, "name", f.name);
  enumeration(*o, "kind", f.kind, parseFabricKind,
              "switch, fat_tree, ring, torus, mesh, fully_connected");
  dims(*o, "shape", f.shape, /*required=*/true);
  number(*o, "bandwidth", f.bandwidth, /*required=*/true);
  number(*o, "latency", f.latency, /*required=*/false);
  number(*o, "energy", f.energyPerByte, /*required=*/false);
  boolean(*o, "in_network_reduction", f.inNetworkReduction);
  number(*o, "efficiency", f.efficiency, /*required=*/false);
  finish(*o);
  return f;
}

System Reader::system(const json::Value &v) {
  System s;
  std::optional<Obj> o = object(v, "");
  if (!o)
    return s;
  int64_t schema = kSystemJsonSchemaVersion;
  integer(*o, "schema", schema, /*required=*/true);
  if (schema != kSystemJsonSchemaVersion)
    error("schema", llvm::formatv("unsupported schema version {0} (this "
                                  "build reads version {1})",
                                  schema, kSystemJsonSchemaVersion)
                        .str());
  str(*o, "name", s.name);
  if (const json::Value *c = get(*o, "chip", /*required=*/true))
    s.chip = chip(*c, "chip");
  integer(*o, "devices", s.devices, /*required=*/false);
  if (const json::Array *a = array(*o, "topology", /*required=*/false))
    for (size_t i = 0; i < a->size(); ++i)
      s.topology.push_back(fabric((*a)[i], element("topology", i)));
  finish(*o);
  return s;
}
} // namespace

namespace {
/// The description's problems: the reader's, else validate()'s.
std::vector<Problem> readSystem(const json::Value &v, System &s) {
  Reader r;
  s = r.system(v);
  // Only a structurally complete description is worth validating; otherwise
  // defaults standing in for missing fields would add noise.
  if (r.problems.empty()) {
    r.problems = validate(s);
    llvm::erase_if(r.problems, [&](const Problem &p) {
      return r.derived.contains(p.path);
    });
  }
  return std::move(r.problems);
}

/// A syntax error of json::parse, which logs
/// "[line:column, byte=offset]: message".
LocatedProblem syntaxProblem(llvm::Error error) {
  std::string msg = llvm::toString(std::move(error));
  LocatedProblem p;
  unsigned offset = 0;
  int consumed = 0;
  if (std::sscanf(msg.c_str(), "[%u:%u, byte=%u]: %n", &p.line, &p.column,
                  &offset, &consumed) == 3 &&
      consumed > 0)
    msg = msg.substr(consumed);
  p.message = "invalid JSON: " + msg;
  return p;
}
} // namespace

llvm::Expected<System> strata::hw::systemFromJSON(const json::Value &v) {
  System s;
  std::vector<Problem> problems = readSystem(v, s);
  if (!problems.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   formatProblems(problems));
  return s;
}

llvm::Expected<System> strata::hw::parseSystemJSON(llvm::StringRef text) {
  llvm::Expected<json::Value> v = json::parse(text);
  if (!v) {
    // Restated in words: "invalid JSON at line 3, column 7: ...".
    LocatedProblem p = syntaxProblem(v.takeError());
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("invalid JSON at line {0}, column {1}: {2}", p.line,
                      p.column,
                      llvm::StringRef(p.message).drop_front(
                          std::strlen("invalid JSON: ")))
            .str());
  }
  return systemFromJSON(*v);
}

llvm::Expected<System>
strata::hw::parseSystemJSON(llvm::StringRef text,
                            std::vector<LocatedProblem> &located) {
  auto fail = [] {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "invalid system description");
  };
  llvm::Expected<json::Value> v = json::parse(text);
  if (!v) {
    located.push_back(syntaxProblem(v.takeError()));
    return fail();
  }
  System s;
  std::vector<Problem> problems = readSystem(*v, s);
  if (problems.empty())
    return s;
  for (Problem &p : problems) {
    auto [line, column] = locateJsonPath(text, p.path);
    located.push_back({p.path.empty() ? "(root)" : p.path, p.message, line,
                       column});
  }
  return fail();
}

//===----------------------------------------------------------------------===//
// Locating a JSON path in the text
//===----------------------------------------------------------------------===//

namespace {
/// Walks JSON text just far enough to find where a path's value is; the
/// text has parsed already, so malformed input only needs not to crash.
class PathLocator {
public:
  explicit PathLocator(llvm::StringRef text) : text(text) {}

  /// Offset of `path`'s deepest existing part.
  size_t locate(llvm::StringRef path) {
    size_t found = 0;
    size_t pos = skipSpace(0);
    while (!path.empty() && pos < text.size()) {
      if (path.consume_front("[")) {
        auto [index, rest] = path.split(']');
        path = rest;
        unsigned i = 0;
        if (index.getAsInteger(10, i) || text[pos] != '[')
          return found;
        std::optional<size_t> element = arrayElement(pos, i);
        if (!element)
          return found;
        pos = found = *element;
      } else {
        path.consume_front(".");
        size_t end = path.find_first_of(".[");
        llvm::StringRef key = path.take_front(end);
        path = path.drop_front(key.size());
        if (text[pos] != '{')
          return found;
        std::optional<std::pair<size_t, size_t>> member =
            objectMember(pos, key);
        if (!member)
          return found;
        found = member->first;
        pos = member->second;
      }
    }
    return found;
  }

private:
  size_t skipSpace(size_t pos) const {
    while (pos < text.size() && llvm::StringRef(" \t\r\n").contains(text[pos]))
      ++pos;
    return pos;
  }

  /// The offset just past the value (or string) starting at `pos`.
  size_t skipValue(size_t pos) const {
    if (pos >= text.size())
      return pos;
    if (text[pos] == '"') {
      for (++pos; pos < text.size() && text[pos] != '"'; ++pos)
        if (text[pos] == '\\')
          ++pos;
      return pos + 1;
    }
    if (text[pos] == '{' || text[pos] == '[') {
      int depth = 0;
      for (; pos < text.size(); ++pos) {
        char c = text[pos];
        if (c == '"') {
          pos = skipValue(pos) - 1;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          return pos + 1;
        }
      }
      return pos;
    }
    while (pos < text.size() && !llvm::StringRef(",]} \t\r\n").contains(text[pos]))
      ++pos;
    return pos;
  }

  /// (key offset, value offset) of member `key` of the object at `pos`.
  std::optional<std::pair<size_t, size_t>> objectMember(size_t pos,
                                                        llvm::StringRef key) {
    pos = skipSpace(pos + 1);
    while (pos < text.size() && text[pos] == '"') {
      size_t keyStart = pos, keyEnd = skipValue(pos);
      llvm::StringRef name = text.slice(keyStart + 1, keyEnd - 1);
      pos = skipSpace(keyEnd);
      if (pos >= text.size() || text[pos] != ':')
        return std::nullopt;
      pos = skipSpace(pos + 1);
      if (name == key)
        return std::make_pair(keyStart, pos);
      pos = skipSpace(skipValue(pos));
      if (pos < text.size() && text[pos] == ',')
        pos = skipSpace(pos + 1);
    }
    return std::nullopt;
  }

  /// Offset of element `index` of the array at `pos`.
  std::optional<size_t> arrayElement(size_t pos, unsigned index) {
    pos = skipSpace(pos + 1);
    for (unsigned i = 0; pos < text.size() && text[pos] != ']'; ++i) {
      if (i == index)
        return pos;
      pos = skipSpace(skipValue(pos));
      if (pos < text.size() && text[pos] == ',')
        pos = skipSpace(pos + 1);
    }
    return std::nullopt;
  }

  llvm::StringRef text;
};
} // namespace

std::pair<unsigned, unsigned>
strata::hw::locateJsonPath(llvm::StringRef text, llvm::StringRef path) {
  size_t offset = PathLocator(text).locate(path);
  llvm::StringRef before = text.take_front(offset);
  unsigned line = 1 + before.count('\n');
  size_t lineStart = before.rfind('\n');
  unsigned column =
      1 + unsigned(lineStart == llvm::StringRef::npos ? offset
                                                       : offset - lineStart - 1);
  return {line, column};
}
