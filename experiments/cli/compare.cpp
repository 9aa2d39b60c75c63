// experiments/cli/compare.cpp — `bplab compare`: several methods and learning rates on the same data,
// seed and batches, one run each (JSONL per run), then a side-by-side table (also saved as Markdown).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/io/json.h"
#include "core/train/method.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/run.h"

namespace bplab::cli {
namespace {

struct Row {
    std::string label;
    double lr;
    EpochMetrics last;
    double best_acc, seconds_per_epoch;
};

std::string table(const std::vector<Row>& rows, int epochs) {
    std::ostringstream o;
    char line[256];
    std::snprintf(line, sizeof line, "| %-26s | %6s | %10s | %9s | %9s | %10s | %8s |\n", "method", "lr", "train CE",
                  "test acc", "best acc", "model norm", "s/epoch");
    o << line << "|" << std::string(28, '-') << "|" << std::string(8, '-') << "|" << std::string(12, '-') << "|"
      << std::string(11, '-') << "|" << std::string(11, '-') << "|" << std::string(12, '-') << "|" << std::string(10, '-')
      << "|\n";
    for (const Row& r : rows) {
        std::snprintf(line, sizeof line, "| %-26s | %6g | %10.5f | %9.4f | %9.4f | %10.3f | %8.2f |\n", r.label.c_str(),
                      r.lr, r.last.train_loss, r.last.test_accuracy, r.best_acc, r.last.model_norm, r.seconds_per_epoch);
        o << line;
    }
    o << "\n(train CE, test acc and model norm after epoch " << epochs << "; best acc over all epochs)\n";
    return o.str();
}

}  // namespace

int compare_command(int argc, char** argv) {
    Flags flags("bplab compare",
                "Trains every method at every learning rate from the same initial weights, seed and batch order,\n"
                "writes each run to <out>/<method>-lr<lr>/ (replacing an earlier comparison's) and prints a comparison\n"
                "table (also <out>/summary.md).");
    add_run_flags(flags);
    flags.add("methods", "backprop,backforward,backforward-as-released", "comma-separated methods: " + choices(method_names()))
        .add("lrs", "0.1", "comma-separated learning rates")
        .add_switch("double-lr-control", "also run backprop at twice each lr (the control for backforward-as-released)")
        .add("out", "runs/compare", "output folder");
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);
    const RunSpec base = run_spec_from(flags);
    const auto methods = flags.words("methods");
    for (const auto& m : methods) step_method(m);
    const auto lrs = flags.reals("lrs");
    try {  // all before the first run: a bad one would otherwise stop a long comparison midway
        require_meaningful(base, lrs);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("--lrs " + flags.str("lrs") + ": " + e.what());
    }
    const TrainTest data = load_data(flags);
    const std::string out = flags.str("out");

    struct Job {
        std::string method, label;
        double lr;
    };
    std::vector<Job> jobs;
    const auto add = [&jobs](Job job) {  // a row once (--methods backprop,backprop asks for one)
        for (const Job& j : jobs)
            if (j.method == job.method && j.lr == job.lr && j.label == job.label) return;
        jobs.push_back(std::move(job));
    };
    for (double lr : lrs) {
        for (const auto& m : methods) add({m, m, lr});
        if (flags.on("double-lr-control")) add({"backprop", "backprop (2x lr)", 2 * lr});
    }
    std::set<std::pair<std::string, double>> runs;
    for (const Job& j : jobs) runs.insert({j.method, j.lr});
    std::cout << "bplab compare: " << jobs.size() << " rows (" << runs.size() << " runs) on " << flags.str("data") << " (" << data.train.size()
              << " train / " << data.test.size() << " test), " << base.epochs << " epochs each -> " << out << "\n";
    std::vector<Row> rows;
    // A (method, lr) run once: the control at 2x lr can be a run of the list already (--lrs 0.1,0.05), and both
    // rows read the one folder.
    std::map<std::pair<std::string, double>, std::vector<EpochMetrics>> done;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        RunSpec spec = base;
        spec.method = jobs[i].method;
        spec.lr = jobs[i].lr;
        spec.print_epochs = false;
        spec.overwrite = true;  // a comparison is rerun whole into its folder
        spec.out = out + "/" + jobs[i].method + "-lr" + json::dump(jobs[i].lr);
        auto [run, fresh] = done.try_emplace({spec.method, spec.lr});
        if (fresh) run->second = run_training(spec, data).epochs;
        const auto& history = run->second;
        double best = 0, seconds = 0;
        for (const auto& m : history) best = std::max(best, m.test_accuracy), seconds += m.seconds;
        rows.push_back({jobs[i].label, jobs[i].lr, history.back(), best, seconds / static_cast<double>(history.size())});
        std::printf("[%zu/%zu] %-26s lr %-6g train CE %.5f  test acc %.4f  (%.1f s)\n", i + 1, jobs.size(),
                    jobs[i].label.c_str(), jobs[i].lr, history.back().train_loss, history.back().test_accuracy, seconds);
        std::fflush(stdout);
    }
    const std::string text = table(rows, base.epochs);
    std::cout << "\n" << text;
    write_text_atomic(out + "/summary.md", text);
    return 0;
}

}  // namespace bplab::cli
