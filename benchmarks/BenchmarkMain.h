//===- BenchmarkMain.h - main() for Strata's Google Benchmarks -*- C++ -*-===//
//
// Debian's libbenchmark is itself a debug build and says so ("Library was
// built as DEBUG"), which reads as if the figures were of a debug Strata.
// The context line says how Strata was built.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_BENCHMARKS_BENCHMARKMAIN_H
#define STRATA_BENCHMARKS_BENCHMARKMAIN_H

#include <benchmark/benchmark.h>

#ifndef STRATA_BUILD_TYPE
#define STRATA_BUILD_TYPE "unknown"
#endif

#define STRATA_BENCHMARK_MAIN()                                                \
  int main(int argc, char **argv) {                                            \
    benchmark::AddCustomContext(                                               \
        "strata_build",                                                        \
        STRATA_BUILD_TYPE " (a DEBUG warning is about Debian's libbenchmark, " \
                          "not Strata)");                                      \
    benchmark::Initialize(&argc, argv);                                        \
    if (benchmark::ReportUnrecognizedArguments(argc, argv))                    \
      return 1;                                                                \
    benchmark::RunSpecifiedBenchmarks();                                       \
    benchmark::Shutdown();                                                     \
    return 0;                                                                  \
  }

#endif // STRATA_BENCHMARKS_BENCHMARKMAIN_H
