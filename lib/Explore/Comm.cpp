//===- Comm.cpp - The processes of an MPI sweep ---------------------------===//

#include "strata/Explore/Comm.h"

#include <cstdio>
#include <cstdlib>

#ifdef STRATA_HAVE_MPI
// The C API only (the C++ bindings are deprecated and noisy).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace strata::explore {

namespace {
Comm theWorld;

/// Whether an MPI launcher started this process (OpenMPI, MPICH/Hydra,
/// PMIx): a singleton MPI_Init of a plain run is slow and, in containers,
/// noisy, and there is nothing to split.
bool launchedByMpi() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}
} // namespace

Comm &Comm::world() { return theWorld; }

bool Comm::available() {
#ifdef STRATA_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void Comm::init(int &argc, char **&argv) {
#ifdef STRATA_HAVE_MPI
  if (!launchedByMpi())
    return;
  MPI_Init(&argc, &argv);
  theWorld.active = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &theWorld.rankId);
  MPI_Comm_size(MPI_COMM_WORLD, &theWorld.numRanks);
#else
  (void)argc;
  (void)argv;
  // Started as one of several processes, without the means to split the
  // work: each would run the whole sweep into the same files.
  const char *size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!size)
    size = std::getenv("PMI_SIZE");
  if (size && std::atoi(size) > 1) {
    std::fprintf(stderr, "strata-explore: started by mpirun with %s "
                         "processes, but built without MPI (install "
                         "libopenmpi-dev and reconfigure)\n",
                 size);
    std::exit(1);
  }
#endif
}

void Comm::finalize() {
#ifdef STRATA_HAVE_MPI
  if (theWorld.active)
    MPI_Finalize();
  theWorld.active = false;
#endif
}

void Comm::barrier() const {
#ifdef STRATA_HAVE_MPI
  if (active)
    MPI_Barrier(MPI_COMM_WORLD);
#endif
}

std::vector<std::string> Comm::allgather(const std::string &bytes) const {
  if (!active)
    return {bytes};
  std::vector<std::string> out(numRanks);
#ifdef STRATA_HAVE_MPI
  int mine = int(bytes.size());
  std::vector<int> sizes(numRanks), offsets(numRanks);
  MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < numRanks; ++r) {
    offsets[r] = total;
    total += sizes[r];
  }
  std::string all(total, '\0');
  MPI_Allgatherv(bytes.data(), mine, MPI_CHAR, all.data(), sizes.data(),
                 offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  for (int r = 0; r < numRanks; ++r)
    out[r] = all.substr(offsets[r], sizes[r]);
#endif
  return out;
}

void Comm::abort(int code) const {
#ifdef STRATA_HAVE_MPI
  if (active)
    MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

} // namespace strata::explore
