# Reference numbers for the comparisons of survey_pipeline.analysis (area vs the rest of the
# city, a group vs the rest of its area) on a raked design, computed with R's survey package.
#
#   cd tests/reference && Rscript make_contrasts.R
#
# Writes city_small.csv (a small synthetic two-wave city, made here with a fixed seed) and
# r_contrasts.csv (long format: case, domain, quantity, value; 17 significant digits). The
# design is the analysis' own: strata = wave, every row its own PSU, base weights, raked to
# joint (wave x variable) margins, here by calibrate(calfun = "raking") whose linearization is
# exact. Each contrast is the difference of two domain means (a domain and the rest of its
# parent domain), linearized by svycontrast on the domain totals.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

set.seed(20261123)
n <- 480
city <- data.frame(
  wave = rep(c("w1", "w2"), each = n / 2),
  area = sample(c("A", "B", "C", "D"), n, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1)),
  age = sample(c("young", "mid", "old"), n, replace = TRUE, prob = c(0.2, 0.35, 0.45)),
  sex = sample(c("female", "male"), n, replace = TRUE, prob = c(0.55, 0.45)),
  stringsAsFactors = FALSE
)
city$w0 <- c(A = 40, B = 55, C = 70, D = 30)[city$area] * runif(n, 0.9, 1.1)
lin <- -0.4 + 0.5 * (city$age == "old") - 0.3 * (city$sex == "male") + 0.4 * (city$area == "C") +
  0.3 * (city$wave == "w2" & city$area == "B")
city$y <- as.numeric(runif(n) < plogis(lin))
city$score <- round(3 + lin + rnorm(n), 3)
city$y[seq(7, n, by = 23)] <- NA
city$id <- seq_len(n)
write.csv(city[, c("id", "wave", "area", "age", "sex", "w0", "y", "score")], "city_small.csv", row.names = FALSE)

# population margins per wave (sum to the same total within a wave)
pop <- list(
  w1 = list(age = c(young = 5200, mid = 6800, old = 8000), sex = c(female = 10400, male = 9600),
            area = c(A = 7000, B = 6000, C = 5000, D = 2000)),
  w2 = list(age = c(young = 5000, mid = 7000, old = 8400), sex = c(female = 10600, male = 9800),
            area = c(A = 7200, B = 6100, C = 5000, D = 2100))
)
# calibration columns: every (wave, age) cell, then (wave, sex) and (wave, area) without the first level
X <- list(); tot <- c()
for (w in c("w1", "w2")) {
  for (a in names(pop[[w]]$age)) {
    nm <- paste0("x_", w, "_age_", a); X[[nm]] <- as.numeric(city$wave == w & city$age == a)
    tot[nm] <- pop[[w]]$age[[a]]
  }
  for (v in c("sex", "area")) {
    lv <- names(pop[[w]][[v]])
    for (a in lv[-1]) {
      nm <- paste0("x_", w, "_", v, "_", a); X[[nm]] <- as.numeric(city$wave == w & city[[v]] == a)
      tot[nm] <- pop[[w]][[v]][[a]]
    }
  }
}
dat <- cbind(city, as.data.frame(X))
d <- svydesign(ids = ~1, strata = ~wave, weights = ~w0, data = dat)
f <- as.formula(paste("~ 0 +", paste(names(tot), collapse = " + ")))
cal <- calibrate(d, f, tot, calfun = "raking", epsilon = 1e-13, maxit = 200)

out <- list()
add <- function(case, domain, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, domain = as.character(domain),
    quantity = quantity, value = sprintf("%.17g", as.numeric(value)), stringsAsFactors = FALSE)
}
contrast <- function(case, domain, var, inside, rest) {
  # missing answers are outside both domains (domain estimation: the rows stay in the design).
  # The domain means are ratios of totals, ya/ia - yb/ib, linearized by svycontrast (the delta
  # method on the totals' covariance) -- the same numbers as svycontrast(svyby(~y, ~dom,
  # svymean, covmat = TRUE), c(1, -1)), which survey 4.1 refuses on calibrated designs.
  ok <- !is.na(city[[var]])
  v <- ifelse(ok, city[[var]], 0)
  ia <- as.numeric(inside & ok); ib <- as.numeric(rest & ok)
  cal <- update(cal, ia = ia, ib = ib, ya = v * ia, yb = v * ib)
  t <- svytotal(~ya + ia + yb + ib, cal)
  ma <- svycontrast(t, quote(ya / ia)); mb <- svycontrast(t, quote(yb / ib))
  con <- svycontrast(t, quote(ya / ia - yb / ib))
  add(case, domain, "estimate", coef(ma)); add(case, domain, "se", SE(ma))
  add(case, domain, "estimate_ref", coef(mb)); add(case, domain, "se_ref", SE(mb))
  add(case, domain, "diff", coef(con)); add(case, domain, "se_diff", SE(con))
  # what the analysis did before: var(a) + var(b), the covariance ignored
  add(case, domain, "se_diff_independent", sqrt(SE(ma)^2 + SE(mb)^2))
}
for (var in c("y", "score")) {
  for (w in c("w1", "w2")) {
    for (a in c("A", "B", "C", "D")) {
      # an area against the rest of the city (same wave)
      contrast(paste0("area_vs_rest:", var), paste(w, a), var, city$wave == w & city$area == a,
               city$wave == w & city$area != a)
      # within one group: the area's group against the group in the rest of the city
      for (g in c("female", "male")) {
        contrast(paste0("group_area_vs_rest:", var), paste(w, g, a), var,
                 city$wave == w & city$sex == g & city$area == a, city$wave == w & city$sex == g & city$area != a)
      }
      # the equity view: a group against everyone else in its area and wave
      for (g in c("young", "mid", "old")) {
        contrast(paste0("group_vs_rest:", var), paste(w, a, g), var,
                 city$wave == w & city$area == a & city$age == g, city$wave == w & city$area == a & city$age != g)
      }
    }
    for (g in c("young", "mid", "old")) {
      contrast(paste0("group_vs_rest_city:", var), paste(w, g), var, city$wave == w & city$age == g,
               city$wave == w & city$age != g)
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, "r_contrasts.csv", row.names = FALSE)
cat("wrote", nrow(res), "reference values\n")
