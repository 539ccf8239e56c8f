// Whether an MPI launcher (mpirun, mpiexec, srun) started this process, read
// from the variables it sets: Open MPI's OMPI_COMM_WORLD_SIZE, MPICH's and
// Intel MPI's PMI_SIZE, a PMIx launcher's PMIX_RANK. Internal to parallel/.
#pragma once

namespace tg::parallel::detail {

// The number of processes the launcher started (-1 when it does not say),
// or 0 when no launcher started this process.
long launched_processes();

}  // namespace tg::parallel::detail
