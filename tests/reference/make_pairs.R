# Reference numbers for the covariance of domain means of one design (survey_pipeline.stats
# DomainMeans.covariance / contrasts / pairwise_contrasts) and for the comparisons built on it:
# two areas of a wave (area_pair) and the difference-in-differences of an evaluation (did).
#
#   cd tests/reference && Rscript make_pairs.R
#
# Writes city_three.csv (a small synthetic three-wave city, made here with a fixed seed),
# r_pairs.csv (long format: case, domain, quantity, value; 17 significant digits) and
# r_session_pairs.txt (sessionInfo).
#
# 1. The analysis' own design on city_three: strata = wave, every row its own PSU, base
#    weights, raked to joint (wave x variable) margins by calibrate(calfun = "raking"), whose
#    linearization is exact. Domain means are ratios of domain totals; their covariance, the
#    area pairs and the DiD are linearized by svycontrast on the totals (svyby(covmat = TRUE)
#    fails on calibrated designs in survey 4.1).
# 2. Designs without calibration from the api data (strata + fpc; one-stage clusters + fpc;
#    a lonely PSU with "adjust" and "average"): vcov(svyby(..., svymean, covmat = TRUE)).
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

set.seed(20261124)
n <- 720
waves <- c("w1", "w2", "w3")
areas <- c("A", "B", "C", "D")
city <- data.frame(
  wave = rep(waves, each = n / 3),
  area = sample(areas, n, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1)),
  age = sample(c("young", "mid", "old"), n, replace = TRUE, prob = c(0.2, 0.35, 0.45)),
  sex = sample(c("female", "male"), n, replace = TRUE, prob = c(0.55, 0.45)),
  stringsAsFactors = FALSE
)
city$w0 <- c(A = 40, B = 55, C = 70, D = 30)[city$area] * runif(n, 0.9, 1.1)
lin <- -0.4 + 0.5 * (city$age == "old") - 0.3 * (city$sex == "male") + 0.4 * (city$area == "C") +
  0.5 * (city$wave == "w3" & city$area %in% c("A", "B"))
city$y <- as.numeric(runif(n) < plogis(lin))
city$score <- round(3 + lin + rnorm(n), 3)
city$y[seq(7, n, by = 23)] <- NA
city$score[seq(11, n, by = 29)] <- NA
city$id <- seq_len(n)
write.csv(city[, c("id", "wave", "area", "age", "sex", "w0", "y", "score")], "city_three.csv", row.names = FALSE)

pop <- list(
  w1 = list(age = c(young = 5200, mid = 6800, old = 8000), sex = c(female = 10400, male = 9600),
            area = c(A = 7000, B = 6000, C = 5000, D = 2000)),
  w2 = list(age = c(young = 5000, mid = 7000, old = 8400), sex = c(female = 10600, male = 9800),
            area = c(A = 7200, B = 6100, C = 5000, D = 2100)),
  w3 = list(age = c(young = 5100, mid = 7100, old = 8300), sex = c(female = 10700, male = 9800),
            area = c(A = 7300, B = 6200, C = 4900, D = 2100))
)
X <- list(); tot <- c()
for (w in waves) {
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

# the totals of every domain of a list (name -> row mask): y_k = v * inside_k and i_k = inside_k,
# on the rows with a valid answer (missing answers stay in the design, outside every domain)
domain_totals <- function(var, doms) {
  ok <- !is.na(city[[var]])
  v <- ifelse(ok, city[[var]], 0)
  upd <- list()
  for (k in seq_along(doms)) {
    upd[[paste0("i", k)]] <- as.numeric(doms[[k]] & ok)
    upd[[paste0("y", k)]] <- v * as.numeric(doms[[k]] & ok)
  }
  des <- do.call(update, c(list(cal), upd))
  svytotal(as.formula(paste("~", paste(names(upd), collapse = " + "))), des)
}
mean_expr <- function(k) parse(text = sprintf("y%d / i%d", k, k))[[1]]

for (var in c("y", "score")) {
  # every wave x area domain: the means and their full covariance matrix
  keys <- expand.grid(area = areas, wave = waves, stringsAsFactors = FALSE)[, c("wave", "area")]
  names_ <- paste(keys$wave, keys$area)
  doms <- lapply(seq_len(nrow(keys)), function(k) city$wave == keys$wave[k] & city$area == keys$area[k])
  t <- domain_totals(var, doms)
  exprs <- lapply(seq_along(doms), mean_expr)
  names(exprs) <- names_
  m <- svycontrast(t, exprs)
  V <- vcov(m)
  add(paste0("mean:", var), names_, "estimate", coef(m))
  add(paste0("mean:", var), names_, "se", sqrt(diag(V)))
  for (i in seq_along(names_)) for (j in seq_along(names_)) {
    add(paste0("cov:", var), paste(names_[i], names_[j], sep = "|"), "cov", V[i, j])
  }
  # every two areas of a wave (a < b): svycontrast of the difference of the two ratios
  for (w in waves) for (i in 1:3) for (j in (i + 1):4) {
    ka <- which(names_ == paste(w, areas[i])); kb <- which(names_ == paste(w, areas[j]))
    con <- svycontrast(t, parse(text = sprintf("y%d / i%d - y%d / i%d", ka, ka, kb, kb))[[1]])
    dom <- paste(w, areas[i], areas[j])
    add(paste0("pair:", var), dom, "diff", coef(con))
    add(paste0("pair:", var), dom, "se_diff", SE(con))
    add(paste0("pair:", var), dom, "se_diff_independent", sqrt(V[ka, ka] + V[kb, kb]))
  }
  # difference-in-differences, treated = areas A and B: pre = the waves before the start
  # (pooled into one domain), post = each wave from the start on
  for (start in c("w2", "w3")) {
    pre <- waves[seq_len(which(waves == start) - 1)]
    for (post in waves[which(waves == start):length(waves)]) {
      tr <- city$area %in% c("A", "B")
      four <- list(city$wave == post & tr, city$wave %in% pre & tr, city$wave == post & !tr,
                   city$wave %in% pre & !tr)
      t4 <- domain_totals(var, four)
      con <- svycontrast(t4, quote((y1 / i1 - y2 / i2) - (y3 / i3 - y4 / i4)))
      parts <- svycontrast(t4, lapply(1:4, mean_expr))
      dom <- paste0("start=", start, " post=", post)
      add(paste0("did:", var), dom, "diff", coef(con))
      add(paste0("did:", var), dom, "se_diff", SE(con))
      add(paste0("did:", var), dom, "se_diff_independent", sqrt(sum(diag(vcov(parts)))))
    }
  }
}

# designs without calibration: the covariance of svyby's domain means
rd <- function(f) read.csv(f, stringsAsFactors = FALSE)
apistrat <- rd("apistrat.csv"); apiclus1 <- rd("apiclus1.csv")
cov_rows <- function(case, b) {
  V <- vcov(b)
  labs <- rownames(V)
  add(case, labs, "estimate", coef(b))
  for (i in seq_along(labs)) for (j in seq_along(labs)) add(case, paste(labs[i], labs[j], sep = "|"), "cov", V[i, j])
}
strat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
cov_rows("api-strat:awards.sch.wide", svyby(~api00, ~awards + sch.wide, strat, svymean, covmat = TRUE))
clus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
cov_rows("api-clus1:stype", svyby(~api00, ~stype, clus1, svymean, covmat = TRUE))
lonely <- rbind(apistrat[apistrat$stype != "H", ], apistrat[apistrat$stype == "H", ][1, ])
for (opt in c("adjust", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = lonely)
  cov_rows(paste0("api-lonely-", opt, ":awards.sch.wide"), svyby(~api00, ~awards + sch.wide, dl, svymean, covmat = TRUE))
}
options(survey.lonely.psu = "fail")

res <- do.call(rbind, out)
write.csv(res, "r_pairs.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session_pairs.txt")
cat("wrote", nrow(res), "reference values\n")
