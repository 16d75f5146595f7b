#pragma once
// Peak of live CPU tensor memory in a scope, through c10's memory-profiling
// hook (every CPU allocation and free of this thread reports to it).
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace ssrl {

namespace detail {
// The hook's byte totals are int64_t in LibTorch 1.13 and size_t in 2.x: take
// the type from the declaration instead of guessing the release that changed it.
template <class>
struct TotalBytesOf;
template <class R, class C, class P, class S, class T, class U, class D>
struct TotalBytesOf<R (C::*)(P, S, T, U, D)> {
  using type = T;
};
using TotalBytes = TotalBytesOf<decltype(&c10::MemoryReportingInfoBase::reportMemoryUsage)>::type;
}  // namespace detail

class PeakMemory : public c10::MemoryReportingInfoBase {
 public:
  void reportMemoryUsage(void*, int64_t size, detail::TotalBytes, detail::TotalBytes, c10::Device) override {
    live_ += size;
    peak_ = std::max(peak_, live_);
  }
  bool memoryProfilingEnabled() const override { return true; }
  std::int64_t peak() const { return peak_; }

 private:
  std::int64_t live_ = 0, peak_ = 0;
};

// Runs fn and returns the peak bytes of tensor memory it held at once.
template <class Fn>
std::int64_t peak_tensor_bytes(Fn&& fn) {
  auto probe = std::make_shared<PeakMemory>();
  {
    c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, probe);
    fn();
  }
  return probe->peak();
}

}  // namespace ssrl
