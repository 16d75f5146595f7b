#include "support/stand_in_device.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/strides.h>
#include <torch/library.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

// Checked against LibTorch 1.13 and 2.15: in 2.x allocate() is no longer
// const, Allocator gained copy_data, and Storage::data() is read-only.
#define SSRL_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
#if SSRL_TORCH_AT_LEAST(2, 3)
#define SSRL_ALLOCATE_CONST
#else
#define SSRL_ALLOCATE_CONST const
#endif

namespace ssrl::test {
namespace {

TransferCounts counts;

bool on_stand_in(const at::Tensor& t) { return t.defined() && t.device().type() == kStandInType; }

// Stand-in memory is host memory labelled with the stand-in device.
struct StandInAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) SSRL_ALLOCATE_CONST override {
    void* p = std::aligned_alloc(64, (n / 64 + 1) * 64);
    return {p, p, &release, kStandIn};
  }
  static void release(void* p) { std::free(p); }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
#if SSRL_TORCH_AT_LEAST(2, 3)
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
#endif
};
StandInAllocator allocator;

// A host view of a stand-in tensor: same memory, sizes and strides.
at::Tensor host_alias(const at::Tensor& t) {
  if (!on_stand_in(t)) return t;
  c10::Storage keep = t.storage();
  return at::from_blob(
      t.data_ptr(), t.sizes(), t.strides(), [keep](void*) mutable { keep = c10::Storage(); },
      t.options().device(torch::kCPU));
}

at::Tensor new_stand_in(at::IntArrayRef sizes, at::IntArrayRef strides, caffe2::TypeMeta dtype) {
  std::int64_t extent = 1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) extent = 0;
    if (extent > 0) extent += (sizes[i] - 1) * strides[i];
  }
  const std::size_t bytes = static_cast<std::size_t>(std::max<std::int64_t>(extent, 0)) * dtype.itemsize();
  c10::Storage storage(c10::Storage::use_byte_size_t(), bytes, allocator.allocate(bytes), &allocator, true);
  auto t = at::detail::make_tensor<c10::TensorImpl>(std::move(storage), c10::DispatchKeySet(c10::DispatchKey::SSRL_STAND_IN), dtype);
  t.unsafeGetTensorImpl()->set_sizes_and_strides(sizes, strides);
  return t;
}

// A stand-in tensor sharing a host tensor's memory (views of stand-in
// tensors must stay views).
at::Tensor stand_in_alias(const at::Tensor& h) {
  auto* keep = new c10::Storage(h.storage());
#if SSRL_TORCH_AT_LEAST(2, 3)
  void* data = h.storage().mutable_data();
#else
  void* data = h.storage().data();
#endif
  c10::DataPtr dp(data, keep, [](void* c) { delete static_cast<c10::Storage*>(c); }, kStandIn);
  c10::Storage storage(c10::Storage::use_byte_size_t(), h.storage().nbytes(), std::move(dp), nullptr, false);
  auto t = at::detail::make_tensor<c10::TensorImpl>(std::move(storage), c10::DispatchKeySet(c10::DispatchKey::SSRL_STAND_IN), h.dtype());
  t.unsafeGetTensorImpl()->set_sizes_and_strides(h.sizes(), h.strides(), h.storage_offset());
  return t;
}

at::Tensor stand_in_copy(const at::Tensor& h) {
  const bool dense = h.is_non_overlapping_and_dense();
  auto t = new_stand_in(h.sizes(), dense ? h.strides() : c10::contiguous_strides(h.sizes()), h.dtype());
  if (h.numel() > 0) host_alias(t).copy_(h);
  return t;
}

[[noreturn]] void mixed(const std::string& op) {
  TORCH_CHECK(false, "Expected all tensors to be on the same device, but found at least two devices, ", kStandIn, " and cpu! (",
              op, ")");
}

void check_tensor(const at::Tensor& t, bool& host, bool& dev) {
  if (!t.defined()) return;
  if (on_stand_in(t)) dev = true;
  else if (t.dim() > 0) host = true;  // 0-dim host tensors are scalars to an accelerator too
}

c10::IValue to_host(const c10::IValue& v) {
  if (v.isTensor()) return host_alias(v.toTensor());
  if (v.isTensorList()) {
    c10::List<at::Tensor> out;
    for (const at::Tensor& t : v.toTensorList()) out.push_back(host_alias(t));
    return out;
  }
  if (v.isList()) {
    auto list = v.toList();
    c10::impl::GenericList out(list.elementType());
    for (const c10::IValue& e : list) out.push_back(to_host(e));
    return out;
  }
  if (v.isDevice() && v.toDevice().type() == kStandInType) return c10::IValue(torch::Device(torch::kCPU));
  return v;
}

void resize(at::Tensor& self, at::IntArrayRef sizes) {
  auto* impl = self.unsafeGetTensorImpl();
  std::int64_t n = 1;
  for (auto s : sizes) n *= s;
  const std::size_t need = static_cast<std::size_t>(n + self.storage_offset()) * self.dtype().itemsize();
  auto storage = self.storage();
  if (storage.nbytes() < need) {
    auto dp = allocator.allocate(need);
    if (storage.nbytes() > 0) std::memcpy(dp.get(), storage.data(), storage.nbytes());
    storage.set_data_ptr_noswap(std::move(dp));
    storage.set_nbytes(need);
  }
  impl->set_sizes_contiguous(sizes);
}

void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  const std::string name = schema.name();
  const auto n_args = schema.arguments().size();
  auto args = torch::jit::last(*stack, n_args);

  if (name == "aten::resize_") {
    at::Tensor self = args[0].toTensor();
    resize(self, args[1].toIntVector());
    torch::jit::drop(*stack, n_args);
    torch::jit::push(*stack, self);
    return;
  }
  // A device tensor given another's storage (the serialiser does this before
  // copying a tensor to the host; loading a module into device parameters
  // too): set on the device tensor itself, not on a host alias.
  if (name == "aten::set_" && schema.overload_name().rfind("source_", 0) == 0) {
    at::Tensor self = args[0].toTensor();
    const bool from_tensor = schema.overload_name() == "source_Tensor";
    const c10::Storage storage = from_tensor ? args[1].toTensor().storage() : args[1].toStorage();
    TORCH_CHECK(storage.device() == self.device(), "Attempted to set the storage of a tensor on device \"",
                self.device(), "\" to a storage on different device \"", storage.device(), "\"");
    std::int64_t offset = 0;
    std::vector<std::int64_t> sizes, strides;
    if (from_tensor) {
      const at::Tensor source = args[1].toTensor();
      offset = source.storage_offset();
      sizes = source.sizes().vec();
      strides = source.strides().vec();
    } else {
      offset = n_args > 2 ? args[2].toInt() : 0;
      sizes = n_args > 3 ? args[3].toIntVector()
                         : std::vector<std::int64_t>{static_cast<std::int64_t>(storage.nbytes() / self.element_size())};
      if (n_args > 4) strides = args[4].toIntVector();
      if (strides.empty()) {
        const auto c = c10::contiguous_strides(sizes);
        strides.assign(c.begin(), c.end());
      }
    }
    self.unsafeGetTensorImpl()->set_storage_keep_dtype(storage);
    self.unsafeGetTensorImpl()->set_sizes_and_strides(sizes, strides, offset);
    torch::jit::drop(*stack, n_args);
    torch::jit::push(*stack, self);
    return;
  }
  // Copies with a stand-in side: copy_ (self, src, non_blocking) is
  // registered for the stand-in, as LibTorch's composite copy_ may choose a
  // device kernel by type; _copy_from (src, dst, [non_blocking]) is what it
  // calls for devices it does not know.
  const bool copy = name == "aten::copy_";
  if (copy || name == "aten::_copy_from" || name == "aten::_copy_from_and_resize") {
    const at::Tensor src = args[copy ? 1 : 0].toTensor();
    at::Tensor dst = args[copy ? 0 : 1].toTensor();
    if (on_stand_in(dst) && !on_stand_in(src)) {
      ++counts.to_device;
      if (!(n_args > 2 && args[2].isBool() && args[2].toBool())) ++counts.to_device_blocking;
    } else if (!on_stand_in(dst) && on_stand_in(src)) {
      ++counts.to_host;
    }
    if (name == "aten::_copy_from_and_resize" && on_stand_in(dst)) resize(dst, src.sizes());
    host_alias(dst).copy_(host_alias(src));
    torch::jit::drop(*stack, n_args);
    torch::jit::push(*stack, dst);
    return;
  }
  bool host = false, dev = false;
  bool target_stand_in = false;
  for (std::size_t i = 0; i < n_args; ++i) {
    const auto& v = args[i];
    if (v.isTensor()) check_tensor(v.toTensor(), host, dev);
    else if (v.isTensorList()) for (const at::Tensor& t : v.toTensorList()) check_tensor(t, host, dev);
    else if (v.isList()) {
      for (const c10::IValue& e : v.toList())
        if (e.isTensor()) check_tensor(e.toTensor(), host, dev);
    } else if (v.isDevice() && v.toDevice().type() == kStandInType) target_stand_in = true;
  }
  // CUDA kernels take host index tensors here; everything else must agree.
  if (host && dev && name != "aten::index.Tensor" && name != "aten::index_put_" && name != "aten::_index_put_impl_")
    mixed(name);
  if (dev || target_stand_in) {
    for (std::size_t i = 0; i < n_args; ++i)
      if (args[i].isGenerator() && args[i].toGenerator().device().type() != kStandInType)
        TORCH_CHECK(false, "Expected a '", kStandInType, "' device type for generator but found '", args[i].toGenerator().device().type(),
                    "' (", name, ")");
  }
  if (name == "aten::_local_scalar_dense") ++counts.scalar_reads;

  // Arguments as host tensors; out= arguments as fresh host tensors copied back after.
  std::vector<c10::IValue> originals(args.begin(), args.end());
  std::vector<std::size_t> outs;
  std::vector<at::Tensor> temps(n_args);
  for (std::size_t i = 0; i < n_args; ++i) {
    const auto& a = schema.arguments()[i];
    if (a.is_out() && originals[i].isTensor() && on_stand_in(originals[i].toTensor())) {
      const auto& o = originals[i].toTensor();
      temps[i] = at::empty({0}, o.options().device(torch::kCPU));
      (*stack)[stack->size() - n_args + i] = temps[i];
      outs.push_back(i);
    } else {
      (*stack)[stack->size() - n_args + i] = to_host(originals[i]);
    }
  }
  {
    at::AutoDispatchBelowADInplaceOrView below;
    op.redispatchBoxed(c10::DispatchKeySet(c10::DispatchKey::CPU), stack);
  }
  // Results back on the stand-in device: in-place and out= results are the
  // original arguments, views alias them, new tensors are copied.
  const auto& returns = schema.returns();
  const bool to_stand_in = dev || target_stand_in;
  const auto n_ret = returns.size();
  for (std::size_t r = 0; r < n_ret; ++r) {
    c10::IValue& v = (*stack)[stack->size() - n_ret + r];
    const auto* alias = returns[r].alias_info();
    if (alias != nullptr && alias->isWrite()) {
      for (std::size_t i = 0; i < n_args; ++i) {
        const auto* ai = schema.arguments()[i].alias_info();
        if (ai == nullptr || ai->beforeSets() != alias->beforeSets()) continue;
        if (std::find(outs.begin(), outs.end(), i) != outs.end()) {
          at::Tensor o = originals[i].toTensor();
          const at::Tensor& h = temps[i];
          resize(o, h.sizes());
          host_alias(o).copy_(h);
        }
        v = originals[i];
        break;
      }
      continue;
    }
    if (!to_stand_in) continue;
    auto convert = [&](const at::Tensor& t) {
      if (!t.defined() || on_stand_in(t)) return t;
      return alias != nullptr ? stand_in_alias(t) : stand_in_copy(t);
    };
    if (v.isTensor()) v = convert(v.toTensor());
    else if (v.isTensorList()) {
      c10::List<at::Tensor> out;
      for (const at::Tensor& t : v.toTensorList()) out.push_back(convert(t));
      v = out;
    }
  }
}

// One device, one stream, events that are always complete.
struct GuardImpl final : c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return kStandInType; }
  c10::Device exchangeDevice(c10::Device) const override { return kStandIn; }
  c10::Device getDevice() const override { return kStandIn; }
  void setDevice(c10::Device) const override {}
  void uncheckedSetDevice(c10::Device) const noexcept override {}
  c10::Stream getStream(c10::Device) const noexcept override { return c10::Stream(c10::Stream::DEFAULT, kStandIn); }
  c10::Stream exchangeStream(c10::Stream) const noexcept override { return c10::Stream(c10::Stream::DEFAULT, kStandIn); }
  c10::DeviceIndex deviceCount() const noexcept override { return 1; }
  void record(void**, const c10::Stream&, const c10::DeviceIndex, const c10::EventFlag) const override {}
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }
  void destroyEvent(void*, const c10::DeviceIndex) const noexcept override {}
};

// Module::to() swaps a parameter's data for its copy on the device, which
// LibTorch allows between dense tensors of the backends it lists (CUDA, XPU,
// ...); the stand-in's dense tensors are dense too.
bool compatible_shallow_copy(const at::Tensor& self, const at::Tensor& from) {
  return self.layout() == at::kStrided && from.layout() == at::kStrided;
}

}  // namespace

TransferCounts& transfer_counts() { return counts; }

}  // namespace ssrl::test

TORCH_LIBRARY_IMPL(_, SSRL_STAND_IN, m) { m.fallback(torch::CppFunction::makeFromBoxedFunction<&ssrl::test::fallback>()); }
// Composite operators that choose a backend kernel by device type: run the CPU choice.
TORCH_LIBRARY_IMPL(aten, SSRL_STAND_IN, m) {
  m.impl("convolution", torch::CppFunction::makeFromBoxedFunction<&ssrl::test::fallback>());
  m.impl("convolution_backward", torch::CppFunction::makeFromBoxedFunction<&ssrl::test::fallback>());
  m.impl("copy_", torch::CppFunction::makeFromBoxedFunction<&ssrl::test::fallback>());
  m.impl("_has_compatible_shallow_copy_type", TORCH_FN(ssrl::test::compatible_shallow_copy));
}
// A backend kernel hides the composite one from the autograd key too.
TORCH_LIBRARY_IMPL(aten, SSRL_STAND_IN_AUTOGRAD, m) {
  m.impl("_has_compatible_shallow_copy_type", TORCH_FN(ssrl::test::compatible_shallow_copy));
}
C10_REGISTER_GUARD_IMPL(SSRL_STAND_IN, ssrl::test::GuardImpl);
