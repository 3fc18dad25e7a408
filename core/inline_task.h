#pragma once
// What a timer runs, and what a transport hands an attempt's result to: any callable of the
// signature, kept in place when it fits kInline bytes and moves without throwing, on the heap
// otherwise. Move-only.
//
// std::function keeps a callable in place only when it is trivially copyable and at most 16
// bytes, so every lambda holding a shared_ptr (each timer of the in-process transport and of a
// socket session, each attempt's result handler) cost an allocation and a free; the simulator
// sets about six timers an attempt.

#include <cassert>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace brownout {

template <class Signature>
class InlineFunction;

template <class R, class... Args>
class InlineFunction<R(Args...)> {
public:
    static constexpr std::size_t kInline = 48;

    InlineFunction() = default;
    InlineFunction(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): as std::function

    template <class F,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction> &&
                                       std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
    InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor): as std::function
        using Stored = std::decay_t<F>;
        // A null function pointer or an empty std::function makes an empty one, as std::function
        // does.
        if constexpr (requires(const Stored& s) { s == nullptr; }) {
            if (f == nullptr) return;
        }
        if constexpr (sizeof(Stored) <= kInline && alignof(Stored) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<Stored>) {
            ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(f));
            ops_ = &kInPlace<Stored>;
        } else {
            ::new (static_cast<void*>(storage_)) Stored*(new Stored(std::forward<F>(f)));
            ops_ = &kOnHeap<Stored>;
        }
    }

    InlineFunction(InlineFunction&& other) noexcept { take(other); }
    InlineFunction& operator=(InlineFunction&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    InlineFunction(const InlineFunction&) = delete;
    InlineFunction& operator=(const InlineFunction&) = delete;
    ~InlineFunction() { reset(); }

    explicit operator bool() const { return ops_ != nullptr; }
    R operator()(Args... args) {
        assert(ops_ != nullptr && "an empty function was called");
        return ops_->call(storage_, std::forward<Args>(args)...);
    }

private:
    struct Ops {
        R (*call)(void* storage, Args&&... args);
        void (*move)(void* from, void* to);  // constructs at `to`, destroys at `from`
        void (*destroy)(void* storage);
    };
    // `f` called with the arguments handed on; its result dropped where R is void.
    template <class F>
    static R invoke(F& f, Args&... args) {
        if constexpr (std::is_void_v<R>)
            f(std::forward<Args>(args)...);
        else
            return f(std::forward<Args>(args)...);
    }
    template <class F>
    static F& in_place(void* storage) {
        return *std::launder(static_cast<F*>(storage));
    }
    template <class F>
    static F*& on_heap(void* storage) {
        return *std::launder(static_cast<F**>(storage));
    }
    template <class F>
    static constexpr Ops kInPlace{
        [](void* s, Args&&... args) -> R { return invoke(in_place<F>(s), args...); },
        [](void* from, void* to) {
            ::new (to) F(std::move(in_place<F>(from)));
            in_place<F>(from).~F();
        },
        [](void* s) { in_place<F>(s).~F(); }};
    template <class F>
    static constexpr Ops kOnHeap{
        [](void* s, Args&&... args) -> R { return invoke(*on_heap<F>(s), args...); },
        [](void* from, void* to) { ::new (to) F*(on_heap<F>(from)); },
        [](void* s) { delete on_heap<F>(s); }};

    void take(InlineFunction& other) noexcept {
        if (other.ops_ == nullptr) return;
        other.ops_->move(other.storage_, storage_);
        ops_ = std::exchange(other.ops_, nullptr);
    }
    void reset() noexcept {
        if (ops_ != nullptr) std::exchange(ops_, nullptr)->destroy(storage_);
    }

    alignas(std::max_align_t) unsigned char storage_[kInline];
    const Ops* ops_ = nullptr;
};

using InlineTask = InlineFunction<void()>;

}  // namespace brownout
