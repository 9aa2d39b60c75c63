// backends/cpu/eigen_map.h — views of bplab's row-major buffers as Eigen matrices (no copies).
// Eigen then picks the GEMM kernel and, with OpenMP, its own threading.
#pragma once
#include <Eigen/Core>

namespace bplab::cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMatMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using ConstRowVecMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <class T>
using RowVecMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;

}  // namespace bplab::cpu
