// One model shared by several threads, each with its own context: results must be bit-identical
// to a sequential run on one context (the model is read-only, contexts share nothing).
#include "test_util.h"

#include <atomic>
#include <thread>

using namespace codec_test;

namespace {

constexpr int k_threads = 4;
constexpr int k_rounds  = 3;

struct Job {
    std::vector<float> pcm;
    int32_t n_q;
};

struct Result {
    Codes codes;
    Audio audio;
    codec_status enc = CODEC_OK, dec = CODEC_OK;
    std::string error;
};

// Thread t's jobs: its own seeds and lengths (some not multiples of the hop), so no two
// threads build graphs of the same shape.
std::vector<Job> jobs_for(int t, int n_jobs) {
    std::vector<Job> jobs;
    for (int j = 0; j < n_jobs; ++j) {
        const int64_t n = 320 + 168 * t + 61 * j;
        jobs.push_back({make_signal(n, (uint32_t) (100 * t + j)), 1 + (t + j) % 4});
    }
    return jobs;
}

// Never asserts: safe to call from worker threads; the main thread compares.
Result run_job(codec_context * ctx, const Job & job) {
    Result r;
    codec_codes c{};
    r.enc = codec_encode(ctx, job.pcm.data(), (int64_t) job.pcm.size(), job.n_q, &c);
    if (r.enc != CODEC_OK) {
        r.error = codec_context_last_error(ctx);
        return r;
    }
    r.codes = copy_codes(c);
    codec_audio a{};
    r.dec = codec_decode(ctx, r.codes.data.data(), r.codes.n_q, r.codes.n_frames, &a);
    if (r.dec != CODEC_OK) {
        r.error = codec_context_last_error(ctx);
        return r;
    }
    r.audio = copy_audio(a);
    return r;
}

void expect_same(const Result & got, const Result & want) {
    ASSERT_EQ(got.enc, CODEC_OK) << got.error;
    ASSERT_EQ(got.dec, CODEC_OK) << got.error;
    EXPECT_EQ(got.codes.n_q, want.codes.n_q);
    EXPECT_EQ(got.codes.n_frames, want.codes.n_frames);
    EXPECT_EQ(got.codes.data, want.codes.data);
    EXPECT_EQ(got.audio.n_samples, want.audio.n_samples);
    EXPECT_TRUE(bit_equal(got.audio.data, want.audio.data));
}

class Threads : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_TINY_MODEL();
        LoadResult r = load_model(tiny_model_path(), /*n_threads =*/ 1);
        ASSERT_NE(r.model, nullptr) << r.message;
        model_ = std::move(r.model);
    }

    // Sequential reference: every thread's jobs, once, in order, on one context.
    void make_jobs(int n_jobs) {
        jobs_.clear();
        ref_.assign(k_threads, {});
        for (int t = 0; t < k_threads; ++t) jobs_.push_back(jobs_for(t, n_jobs));
        CtxPtr ctx = new_context(model_.get(), 1);
        ASSERT_TRUE(ctx);
        for (int t = 0; t < k_threads; ++t) {
            for (const Job & j : jobs_[t]) {
                ref_[t].push_back(run_job(ctx.get(), j));
                ASSERT_EQ(ref_[t].back().enc, CODEC_OK) << ref_[t].back().error;
                ASSERT_EQ(ref_[t].back().dec, CODEC_OK) << ref_[t].back().error;
            }
        }
    }

    // k_threads threads, each with its own context (created concurrently), run their jobs
    // `rounds` times; every result must equal the sequential reference.
    void run_parallel(int rounds) {
        std::vector<std::vector<Result>> got(k_threads);  // [t][round * n_jobs + j]
        std::vector<int> ctx_failed(k_threads, 0);
        std::atomic<int> ready{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < k_threads; ++t) {
            pool.emplace_back([&, t] {
                CtxPtr ctx = new_context(model_.get(), 1);
                ready.fetch_add(1);
                while (ready.load() < k_threads) std::this_thread::yield();  // maximise overlap
                if (!ctx) { ctx_failed[t] = 1; return; }
                for (int r = 0; r < rounds; ++r)
                    for (const Job & j : jobs_[t]) got[t].push_back(run_job(ctx.get(), j));
            });
        }
        for (auto & th : pool) th.join();
        for (int t = 0; t < k_threads; ++t) {
            ASSERT_EQ(ctx_failed[t], 0) << "thread " << t << " could not create a context";
            ASSERT_EQ(got[t].size(), (size_t) rounds * jobs_[t].size());
            for (size_t i = 0; i < got[t].size(); ++i) {
                SCOPED_TRACE("thread " + std::to_string(t) + " round " + std::to_string(i / jobs_[t].size()) +
                             " job " + std::to_string(i % jobs_[t].size()));
                expect_same(got[t][i], ref_[t][i % jobs_[t].size()]);
            }
        }
    }

    ModelPtr model_;
    std::vector<std::vector<Job>> jobs_;
    std::vector<std::vector<Result>> ref_;
};

}  // namespace

// Three lengths per thread make six graph shapes, more than a context caches (4), so every
// call builds, allocates and computes a new graph while the other threads do the same.
TEST_F(Threads, ParallelContextsMatchSequential) {
    make_jobs(3);
    run_parallel(k_rounds);
}

// One length per thread: after the first round every call reuses the context's cached
// encode/decode graphs, concurrently with the other threads.
TEST_F(Threads, ParallelContextsReuseCachedGraphs) {
    make_jobs(1);
    run_parallel(k_rounds + 1);
}

TEST_F(Threads, ContextChurnAndGettersDuringEncoding) {
    // While two threads encode, two others create/free contexts and read model metadata
    // (both allowed from any thread by codec.h).
    make_jobs(3);
    std::atomic<bool> stop{false};
    std::atomic<int> bad_meta{0}, bad_ctx{0};
    std::vector<std::vector<Result>> got(2);
    std::vector<std::thread> pool;
    for (int t = 0; t < 2; ++t) {
        pool.emplace_back([&, t] {
            CtxPtr ctx = new_context(model_.get(), 1);
            if (!ctx) { bad_ctx.fetch_add(1); return; }
            for (int r = 0; r < k_rounds; ++r)
                for (const Job & j : jobs_[t]) got[t].push_back(run_job(ctx.get(), j));
        });
    }
    for (int t = 0; t < 2; ++t) {
        pool.emplace_back([&] {
            while (!stop.load()) {
                CtxPtr ctx = new_context(model_.get(), 1);
                if (!ctx) bad_ctx.fetch_add(1);
                char buf[32];
                if (codec_model_meta_str(model_.get(), "dac.upsampling_ratios", buf, sizeof(buf)) != 6 ||
                    std::string(buf) != "[4, 2]" || codec_model_hop_size(model_.get()) != 8 ||
                    std::string(codec_model_arch(model_.get())) != "dac") {
                    bad_meta.fetch_add(1);
                }
            }
        });
    }
    pool[0].join();
    pool[1].join();
    stop = true;
    pool[2].join();
    pool[3].join();
    EXPECT_EQ(bad_ctx.load(), 0);
    EXPECT_EQ(bad_meta.load(), 0);
    for (int t = 0; t < 2; ++t) {
        ASSERT_EQ(got[t].size(), (size_t) k_rounds * jobs_[t].size());
        for (size_t i = 0; i < got[t].size(); ++i) {
            SCOPED_TRACE("thread " + std::to_string(t) + " call " + std::to_string(i));
            expect_same(got[t][i], ref_[t][i % jobs_[t].size()]);
        }
    }
}

TEST_F(Threads, ConcurrentModelLoads) {
    // codec.h allows loading models from several threads at once (the backend registry and
    // ggml's one-time tables are initialized on first use, possibly in these threads).
    make_jobs(1);
    std::vector<Result> got(k_threads);
    std::vector<std::string> load_err(k_threads);
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < k_threads; ++t) {
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < k_threads) std::this_thread::yield();
            LoadResult r = load_model(tiny_model_path(), 1);
            if (!r.model) { load_err[t] = r.message.empty() ? "load failed" : r.message; return; }
            CtxPtr ctx = new_context(r.model.get(), 1);
            if (!ctx) { load_err[t] = "no context"; return; }
            got[t] = run_job(ctx.get(), jobs_[t][0]);
        });
    }
    for (auto & th : pool) th.join();
    for (int t = 0; t < k_threads; ++t) {
        ASSERT_EQ(load_err[t], "") << "thread " << t;
        SCOPED_TRACE("thread " + std::to_string(t));
        expect_same(got[t], ref_[t][0]);
    }
}
