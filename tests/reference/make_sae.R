# Reference numbers for survey_pipeline.stats.fay_herriot, computed with R's sae package
# (Molina & Marhuenda 2015): eblupFH and mseFH for the methods REML, ML and FH.
#
#   cd tests/reference && Rscript make_sae.R
#
# Writes
#   sae_milk.csv     sae's documented `milk` data (data(milk); GPL-2, see README.md)
#   sae_areas.csv    two small synthetic area-level data sets made here with a fixed seed:
#                    `areas` (30 areas, two continuous covariates, a positive variance component,
#                    plus two areas without a sample) and `zero` (30 areas whose direct
#                    estimates vary less than their sampling variances imply: the variance
#                    component is truncated at 0 by REML and ML, and sae's FH iteration does not
#                    converge)
#   r_sae.csv        long format: case, method, area, quantity, value (17 significant digits)
#   r_session_sae.txt
#
# Per area: eblup (eblupFH$eblup) and mse (mseFH$mse). Per fit: refvar, iterations,
# convergence, beta:<j> and se:<j> (estcoef), loglike. Cases `*_tight` rerun with
# PRECISION = 1e-12 (sae's default is 1e-4), so the comparison also covers the converged
# estimator and not only sae's stopping rule.
#
# sae cannot fit areas without a sample (NA in y stops it). For those the script evaluates the
# regression-synthetic estimator x'beta and the MSE estimator refvar + x'Q x - bias (bias = 0
# for REML, the ML and FH first-order biases that mseFH itself uses otherwise), with beta and
# refvar from sae's fit and Q = (X' V^-1 X)^-1 as mseFH computes it (Rao & Molina 2015,
# section 6.2); those rows have quantity synthetic_out / mse_out.
suppressMessages(library(sae))

fmt <- function(x) formatC(x, digits = 17, format = "g")
rows <- list()
add <- function(case, method, area, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, method = method, area = area,
                                          quantity = quantity, value = trimws(fmt(as.numeric(value))),
                                          stringsAsFactors = FALSE)
}

fit_case <- function(case, y, X, vardir, method, precision = 1e-4, Xout = NULL) {
  res <- mseFH(y ~ X - 1, vardir, method = method, PRECISION = precision)
  fit <- res$est$fit
  add(case, method, "", "convergence", as.integer(fit$convergence))
  add(case, method, "", "iterations", fit$iterations)
  if (!fit$convergence) return(invisible(NULL))
  add(case, method, "", "refvar", fit$refvar)
  add(case, method, "", "loglike", fit$goodness[["loglike"]])
  for (j in seq_len(ncol(X))) {
    add(case, method, "", paste0("beta:", colnames(X)[j]), fit$estcoef$beta[j])
    add(case, method, "", paste0("se:", colnames(X)[j]), fit$estcoef$std.error[j])
  }
  for (d in seq_along(y)) {
    add(case, method, as.character(d), "eblup", res$est$eblup[d])
    add(case, method, as.character(d), "mse", res$mse[d])
  }
  if (!is.null(Xout)) {
    A <- fit$refvar
    Vi <- 1 / (A + vardir)
    Q <- solve(t(Vi * X) %*% X)
    SumAD2 <- sum(Vi^2)
    SumAD <- sum(Vi)
    m <- length(y)
    bias <- switch(method,
      REML = 0,
      ML = -sum(diag(Q %*% (t((Vi^2) * X) %*% X))) / SumAD2,
      FH = 2 * (m * SumAD2 - SumAD^2) / (SumAD^3))
    beta <- fit$estcoef$beta
    for (l in seq_len(nrow(Xout))) {
      xl <- Xout[l, ]
      add(case, method, rownames(Xout)[l], "synthetic_out", sum(xl * beta))
      add(case, method, rownames(Xout)[l], "mse_out", A + drop(t(xl) %*% Q %*% xl) - bias)
    }
  }
}

# --- milk (sae's documented example: mseFH(yi ~ as.factor(MajorArea), SD^2)) ----------------
data(milk)
write.csv(milk, "sae_milk.csv", row.names = FALSE)
Xmilk <- model.matrix(~ as.factor(MajorArea), milk)
colnames(Xmilk) <- c("(Intercept)", "MajorArea2", "MajorArea3", "MajorArea4")
for (method in c("REML", "ML", "FH")) {
  fit_case("milk", milk$yi, Xmilk, milk$SD^2, method)
  fit_case("milk_tight", milk$yi, Xmilk, milk$SD^2, method, precision = 1e-12)
}
# sae's own call, to show the design matrix above is the one the documented example uses
doc <- mseFH(milk$yi ~ as.factor(milk$MajorArea), milk$SD^2)
stopifnot(isTRUE(all.equal(doc$mse, mseFH(milk$yi ~ Xmilk - 1, milk$SD^2)$mse, tolerance = 0)))

# --- synthetic cases -----------------------------------------------------------------------
set.seed(20261207)
m <- 30
x1 <- round(runif(m, 0, 1), 4)
x2 <- round(rnorm(m), 4)
vardir <- round(runif(m, 0.01, 0.08), 5)
X <- cbind("(Intercept)" = 1, x1 = x1, x2 = x2)
u <- rnorm(m, sd = sqrt(0.06))
e <- rnorm(m, sd = sqrt(vardir))
y <- round(drop(X %*% c(0.5, 1, -0.3)) + u + e, 5)
y0 <- round(drop(X %*% c(0.5, 1, -0.3)) + 0.4 * rnorm(m, sd = sqrt(vardir)), 5)
Xout <- rbind("out1" = c(1, 0.25, -1.2), "out2" = c(1, 0.9, 0.4))
colnames(Xout) <- colnames(X)
areas <- rbind(
  data.frame(case = "areas", area = as.character(1:m), y = y, vardir = vardir, x1 = x1, x2 = x2),
  data.frame(case = "areas", area = rownames(Xout), y = NA, vardir = NA, x1 = Xout[, 2], x2 = Xout[, 3]),
  data.frame(case = "zero", area = as.character(1:m), y = y0, vardir = vardir, x1 = x1, x2 = x2))
write.csv(areas, "sae_areas.csv", row.names = FALSE)
for (method in c("REML", "ML", "FH")) {
  fit_case("areas", y, X, vardir, method, Xout = Xout)
  fit_case("areas_tight", y, X, vardir, method, precision = 1e-12, Xout = Xout)
  fit_case("zero", y0, X, vardir, method)
}

out <- do.call(rbind, rows)
write.csv(out, "r_sae.csv", row.names = FALSE, quote = TRUE)
writeLines(capture.output(sessionInfo()), "r_session_sae.txt")
cat("wrote", nrow(out), "rows to r_sae.csv\n")
