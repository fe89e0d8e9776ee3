//===- JsonTest.cpp - JSON import/export of hardware descriptions ---------===//

#include "strata/Hardware/Json.h"
#include "strata/Hardware/Presets.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace strata::hw;
namespace json = llvm::json;

namespace {

std::string print(const json::Value &v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", v);
  return s;
}

/// The error text of a failed import ("" if it succeeded).
std::string importError(llvm::StringRef text) {
  llvm::Expected<System> s = parseSystemJSON(text);
  if (s)
    return "";
  return llvm::toString(s.takeError());
}

// A minimal, valid description with only the required fields.
constexpr const char *kMinimal = R"json({
  "schema": 1,
  "name": "toy",
  "chip": {
    "name": "toy-chip",
    "clock": 1e9,
    "cores": 4,
    "units": [
      {"name": "mm", "kind": "matrix", "shape": [16, 16, 16],
       "rates": {"fp8": 2048, "bf16": 1024}}
    ],
    "memory": [
      {"name": "smem", "scope": "core", "management": "scratchpad",
       "capacity": 65536, "bandwidth": 1e11},
      {"name": "dram", "scope": "chip", "management": "scratchpad",
       "capacity": 1073741824, "bandwidth": 1e11, "write_bandwidth": 5e10,
       "latency": 5e-7, "energy": 3.12e-11}
    ]
  }
})json";

/// kMinimal with one substring replaced (the test fails if it is absent).
std::string patched(llvm::StringRef from, llvm::StringRef to) {
  std::string s = kMinimal;
  size_t at = s.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  if (at != std::string::npos)
    s.replace(at, from.size(), to.str());
  return s;
}

TEST(Json, MinimalImportsWithDefaults) {
  llvm::Expected<System> s = parseSystemJSON(kMinimal);
  ASSERT_TRUE(bool(s)) << llvm::toString(s.takeError());
  EXPECT_EQ(s->name, "toy");
  EXPECT_EQ(s->devices, 1);
  EXPECT_TRUE(s->topology.empty());
  EXPECT_FALSE(s->chip.grid);
  EXPECT_FALSE(s->chip.noc);
  const ComputeUnit &u = s->chip.units[0];
  EXPECT_EQ(u.efficiency, 1.0);
  // Rates come back in canonical dtype order whatever the key order.
  ASSERT_EQ(u.rates.size(), 2u);
  EXPECT_EQ(u.rates[0].first, DType::bf16);
  EXPECT_EQ(u.rates[1].first, DType::fp8);
  const MemoryLevel &smem = s->chip.memory[0];
  EXPECT_EQ(smem.writeBandwidth, smem.readBandwidth); // defaults to read
  EXPECT_EQ(smem.latency, 0);
  EXPECT_EQ(s->chip.memory[1].writeBandwidth, 5e10);
  EXPECT_EQ(s->chip.memory[1].capacity, 1073741824u);
}

TEST(Json, ExportHasSchemaAndEveryField) {
  System s = *getPreset("mesh-sram");
  json::Value v = toJSON(s);
  const json::Object *o = v.getAsObject();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->getInteger("schema"), kSystemJsonSchemaVersion);
  const json::Object *chip = o->getObject("chip");
  ASSERT_TRUE(chip);
  for (const char *k : {"name", "clock", "cores", "grid", "units", "memory",
                        "noc", "static_power", "launch_overhead",
                        "graph_node_overhead"})
    EXPECT_TRUE(chip->get(k)) << k;
  const json::Object *level = (*chip->getArray("memory"))[0].getAsObject();
  for (const char *k : {"name", "scope", "management", "capacity", "bandwidth",
                        "write_bandwidth", "latency", "energy", "efficiency"})
    EXPECT_TRUE(level->get(k)) << k;
  const json::Object *unit = (*chip->getArray("units"))[0].getAsObject();
  for (const char *k : {"name", "kind", "shape", "rates", "efficiency"})
    EXPECT_TRUE(unit->get(k)) << k;
  // A chip without a grid still writes the field, as null.
  json::Value h = toJSON(*getPreset("dgx-h100x2"));
  const json::Object *hchip = h.getAsObject()->getObject("chip");
  EXPECT_EQ(hchip->get("grid")->kind(), json::Value::Null);
  EXPECT_EQ(hchip->get("noc")->kind(), json::Value::Null);
  const json::Object *fab =
      (*h.getAsObject()->getArray("topology"))[1].getAsObject();
  for (const char *k : {"name", "kind", "shape", "bandwidth", "latency",
                        "energy", "in_network_reduction", "efficiency"})
    EXPECT_TRUE(fab->get(k)) << k;
}

// JSON -> System -> JSON is lossless for every preset, byte for byte, and
// the System survives the trip unchanged.
TEST(Json, RoundTripEveryPreset) {
  for (const std::string &name : presetNames()) {
    System s = *getPreset(name);
    std::string first = print(toJSON(s));
    llvm::Expected<System> back = parseSystemJSON(first);
    ASSERT_TRUE(bool(back)) << name << ": " << llvm::toString(back.takeError());
    std::string second = print(toJSON(*back));
    EXPECT_EQ(first, second) << name;
    // Field-level check of things that print alike but could differ.
    EXPECT_EQ(back->chip.clock, s.chip.clock) << name;
    EXPECT_EQ(back->chip.graphNodeOverhead, s.chip.graphNodeOverhead) << name;
    ASSERT_EQ(back->chip.units.size(), s.chip.units.size());
    for (size_t i = 0; i < s.chip.units.size(); ++i) {
      EXPECT_EQ(back->chip.units[i].rates, s.chip.units[i].rates) << name;
      EXPECT_EQ(back->chip.units[i].asynchronous,
                s.chip.units[i].asynchronous)
          << name;
    }
    for (size_t i = 0; i < s.chip.memory.size(); ++i) {
      EXPECT_EQ(back->chip.memory[i].capacity, s.chip.memory[i].capacity);
      EXPECT_EQ(back->chip.memory[i].energyPerByte,
                s.chip.memory[i].energyPerByte);
    }
    EXPECT_EQ(back->chip.grid, s.chip.grid) << name;
    EXPECT_EQ(back->chip.noc.has_value(), s.chip.noc.has_value()) << name;
    EXPECT_EQ(back->devices, s.devices);
  }
}

TEST(Json, NonDefaultEfficienciesRoundTrip) {
  System s = *getPreset("dgx-h100x2");
  s.chip.units[0].efficiency = 0.71;
  s.chip.memory[3].efficiency = 0.9;
  s.topology[1].efficiency = 0.8;
  llvm::Expected<System> back = systemFromJSON(toJSON(s));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->chip.units[0].efficiency, 0.71);
  EXPECT_EQ(back->chip.memory[3].efficiency, 0.9);
  EXPECT_EQ(back->topology[1].efficiency, 0.8);
}

TEST(Json, SyntaxErrorHasLineAndColumn) {
  std::string err = importError("{\n  \"schema\": 1,\n  \"name\": ]\n}");
  EXPECT_NE(err.find("line 3, column"), std::string::npos) << err;
}

TEST(Json, NotAnObject) {
  EXPECT_NE(importError("[1, 2]").find("(root): expected an object"),
            std::string::npos);
}

TEST(Json, MissingRequiredFieldsNamed) {
  std::string err = importError(patched(R"("capacity": 65536, )", ""));
  EXPECT_NE(err.find("chip.memory[0].capacity: missing required field "
                     "'capacity'"),
            std::string::npos)
      << err;
  err = importError(patched(R"("schema": 1,)", ""));
  EXPECT_NE(err.find("schema: missing required field 'schema'"),
            std::string::npos)
      << err;
  err = importError(patched(R"("kind": "matrix", )", ""));
  EXPECT_NE(err.find("chip.units[0].kind: missing required field"),
            std::string::npos)
      << err;
}

TEST(Json, UnknownFieldsAreErrors) {
  std::string err = importError(
      patched(R"("capacity": 65536,)", R"("capacity": 65536, "size": 3,)"));
  EXPECT_NE(err.find("chip.memory[0].size: unknown field 'size'"),
            std::string::npos)
      << err;
  err = importError(patched(R"("schema": 1,)", R"("schema": 1, "foo": 0,)"));
  EXPECT_NE(err.find("foo: unknown field 'foo'"), std::string::npos) << err;
  err = importError(patched(R"("bf16": 1024)", R"("bf16": 1024, "fp12": 1)"));
  EXPECT_NE(err.find("chip.units[0].rates.fp12: unknown dtype 'fp12'"),
            std::string::npos)
      << err;
}

TEST(Json, WrongTypesAndEnumValues) {
  std::string err =
      importError(patched(R"("capacity": 65536)", R"("capacity": "64 KiB")"));
  EXPECT_NE(err.find("chip.memory[0].capacity: expected a non-negative "
                     "integer"),
            std::string::npos)
      << err;
  err = importError(patched(R"("cores": 4)", R"("cores": 4.5)"));
  EXPECT_NE(err.find("chip.cores: expected an integer"), std::string::npos)
      << err;
  err = importError(patched(R"("scope": "core")", R"("scope": "cluster")"));
  EXPECT_NE(err.find("chip.memory[0].scope: unknown scope 'cluster'"),
            std::string::npos)
      << err;
  err = importError(patched(R"("clock": 1e9)", R"("clock": "1 GHz")"));
  EXPECT_NE(err.find("chip.clock: expected a number"), std::string::npos)
      << err;
}

TEST(Json, ReportsEveryStructuralProblem) {
  std::string s = patched(R"("cores": 4)", R"("cores": "four")");
  size_t at = s.find(R"("scope": "chip")");
  s.replace(at, 15, R"("scope": "rack")");
  std::string err = importError(s);
  EXPECT_NE(err.find("chip.cores:"), std::string::npos) << err;
  EXPECT_NE(err.find("chip.memory[1].scope:"), std::string::npos) << err;
}

TEST(Json, UnsupportedSchema) {
  std::string err = importError(patched(R"("schema": 1)", R"("schema": 2)"));
  EXPECT_NE(err.find("schema: unsupported schema version 2"), std::string::npos)
      << err;
}

TEST(Json, ValidationProblemsCarryPaths) {
  // Each parses but describes impossible hardware; validate()'s problems
  // come back with their paths. A 2 GiB cache in front of a 1 GiB DRAM:
  std::string err = importError(
      patched(R"({"name": "dram")",
              R"({"name": "l2", "scope": "chip", "management": "cache",
          "capacity": 2147483648, "bandwidth": 2e11},
         {"name": "dram")"));
  EXPECT_NE(err.find("chip.memory[1].capacity: cache 'l2'"), std::string::npos)
      << err;
  err = importError(patched(R"("capacity": 65536)", R"("capacity": 0)"));
  EXPECT_NE(err.find("chip.memory[0].capacity: capacity must be positive"),
            std::string::npos)
      << err;
  err = importError(patched(R"("name": "toy",)",
                            R"("name": "toy", "devices": 4,
                               "topology": [{"name": "l", "kind": "ring",
                                 "shape": [2], "bandwidth": 1e9}],)"));
  EXPECT_NE(err.find("devices: the fabric sizes multiply to 2 but devices is "
                     "4"),
            std::string::npos)
      << err;
}

TEST(Json, NullMeansAbsent) {
  std::string s = patched(R"("cores": 4,)", R"("cores": 4, "grid": null,
                                               "noc": null,)");
  llvm::Expected<System> sys = parseSystemJSON(s);
  ASSERT_TRUE(bool(sys)) << llvm::toString(sys.takeError());
  EXPECT_FALSE(sys->chip.grid);
}

TEST(Json, ProblemsAreLocatedAtTheirField) {
  const char *text = "{\n"
                     "  \"schema\": 1,\n"
                     "  \"chip\": {\n"
                     "    \"memory\": [\n"
                     "      {\"name\": \"a\"},\n"
                     "      {\"name\": \"b\", \"bandwidth\": -1}\n"
                     "    ]\n"
                     "  }\n"
                     "}\n";
  // A member is located at its key, an array element at its value.
  EXPECT_EQ(locateJsonPath(text, "schema"), std::make_pair(2u, 3u));
  EXPECT_EQ(locateJsonPath(text, "chip.memory[1]"), std::make_pair(6u, 7u));
  EXPECT_EQ(locateJsonPath(text, "chip.memory[1].bandwidth"),
            std::make_pair(6u, 21u));
  // A missing field: the deepest part of its path that exists.
  EXPECT_EQ(locateJsonPath(text, "chip.memory[0].capacity"),
            std::make_pair(5u, 7u));
  EXPECT_EQ(locateJsonPath(text, "chip.clock"), std::make_pair(3u, 3u));
  EXPECT_EQ(locateJsonPath(text, "(root)"), std::make_pair(1u, 1u));

  std::vector<LocatedProblem> problems;
  llvm::Expected<System> sys =
      parseSystemJSON("{\"schema\": 1,\n \"name\": 3", problems);
  ASSERT_FALSE(bool(sys));
  llvm::consumeError(sys.takeError());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 2u);
  EXPECT_NE(problems[0].message.find("invalid JSON"), std::string::npos);
}

} // namespace
