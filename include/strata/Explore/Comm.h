//===- Comm.h - The processes of an MPI sweep -------------------*- C++ -*-===//
//
// `mpirun -np N strata-explore ...` splits a sweep's points over N
// processes. This is the little of MPI the driver needs: who am I, how many
// are we, wait for all, and everybody's bytes to everybody. Without MPI
// (not found at configure time, or the tool not started by mpirun) it is one
// process and every call is trivial.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_COMM_H
#define STRATA_EXPLORE_COMM_H

#include <string>
#include <vector>

namespace strata::explore {

class Comm {
public:
  /// The processes of this run. MPI is initialised only when the process
  /// was started by an MPI launcher (its environment says so), so a plain
  /// run never touches MPI.
  static Comm &world();
  /// Initialises MPI when launched by mpirun (call first thing in main).
  static void init(int &argc, char **&argv);
  /// Finalises MPI if init() started it.
  static void finalize();
  /// Whether this build can run under MPI at all.
  static bool available();

  int rank() const { return rankId; }
  int size() const { return numRanks; }
  void barrier() const;
  /// Every process's `bytes`, indexed by rank.
  std::vector<std::string> allgather(const std::string &bytes) const;
  /// Ends every process of the run (after an error on one of them, so the
  /// others do not wait for it forever).
  [[noreturn]] void abort(int code) const;

private:
  int rankId = 0, numRanks = 1;
  bool active = false;
};

} // namespace strata::explore

#endif // STRATA_EXPLORE_COMM_H
