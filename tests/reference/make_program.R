# Reference numbers for survey_pipeline.program.peer_benchmarks, computed with R's survey package.
#
#   cd tests/reference && Rscript make_program.R
#
# Three agencies are three independent samples: the api data sets' simple random, stratified and
# one-stage cluster samples. Per agency and school type (svyby, the "periods"), the mean of api00
# and the share of schools meeting their growth target (sch.wide == "Yes"). For each cell, every
# agency against the program mean m = mean(y_k) (each agency one vote):
#   d_a = y_a - m,  Var(d_a) = (1 - 1/K)^2 v_a + sum_{k != a} v_k / K^2   (independent samples)
# with Welch-Satterthwaite df from the designs' degrees of freedom, a two-sided t test, and
# Benjamini-Hochberg over the K agencies of the cell; median and quartiles with quantile(type = 7).
# Writes r_program.csv (values with 17 significant digits) and r_session_program.txt.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

rd <- function(f) read.csv(f, stringsAsFactors = FALSE)
agencies <- list(
  srs = svydesign(id = ~1, weights = ~pw, fpc = ~fpc, data = rd("apisrs.csv")),
  strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = rd("apistrat.csv")),
  clus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = rd("apiclus1.csv"))
)
agencies <- lapply(agencies, function(d) update(d, met = as.numeric(sch.wide == "Yes")))

rows <- list()
for (ind in c("api00", "met")) {
  f <- as.formula(paste0("~", ind))
  est <- do.call(rbind, lapply(names(agencies), function(a) {
    d <- agencies[[a]]
    b <- svyby(f, ~stype, d, svymean)
    data.frame(member = a, period = as.character(b$stype), estimate = coef(b), se = SE(b), df = degf(d),
               stringsAsFactors = FALSE)
  }))
  for (p in unique(est$period)) {
    g <- est[est$period == p, ]
    K <- nrow(g); y <- g$estimate; v <- g$se^2
    m <- mean(y)
    diff <- y - m
    c_own <- (1 - 1 / K)^2 * v
    c_oth <- (sum(v) - v) / K^2
    dvar <- c_own + c_oth
    denom <- c_own^2 / g$df + (sum(v^2 / g$df) - v^2 / g$df) / K^4
    wsdf <- dvar^2 / denom
    t <- diff / sqrt(dvar)
    pv <- 2 * pt(-abs(t), wsdf)
    padj <- p.adjust(pv, "BH")
    q <- quantile(y, c(0.25, 0.5, 0.75), type = 7)
    pct <- sapply(seq_len(K), function(i) 100 * (sum(y < y[i]) + 0.5 * (sum(y == y[i]) - 1)) / (K - 1))
    for (i in seq_len(K)) {
      vals <- c(value = y[i], se = sqrt(v[i]), df_design = g$df[i], median = q[[2]], q25 = q[[1]], q75 = q[[3]],
                mean = m, percentile = pct[i], diff = diff[i], diff_se = sqrt(dvar[i]), df = wsdf[i], t = t[i],
                p = pv[i], p_adj = padj[i])
      rows[[length(rows) + 1]] <- data.frame(member = g$member[i], period = p, indicator = ind,
        quantity = names(vals), value = sprintf("%.17g", vals), stringsAsFactors = FALSE)
    }
  }
}
write.csv(do.call(rbind, rows), "r_program.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session_program.txt")
