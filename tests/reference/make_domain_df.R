# Reference numbers for domain degrees of freedom (svyciprop on a subset), computed with R's
# survey package, and the size of the second-stage variance term that survey_pipeline.stats
# refuses to drop silently.
#
#   cd tests/reference && Rscript make_domain_df.R
#
# Writes r_domain_df.csv (long format: case, domain, quantity, value; 17 significant digits)
# and r_session_domain_df.txt.
#
# Domains: svyciprop(~I(sch.wide == "Yes"), subset(design, <domain>), method = m) uses
# df = degf(subset(...)): the PSUs with at least one row (non-zero weight) in the domain minus
# the strata with at least one such row (Korn & Graubard 1998; NCHS, Parker et al. 2017).
# R's confint for svyciprop uses that df for "beta" (Korn-Graubard), "logit", "asin", "mean"
# and "xlogit". Designs: apiclus2 (two stages dnum/snum, ultimate cluster, domains stype and
# stype x comp.imp) and apistrat (strata stype, fpc, domain comp.imp and stype x comp.imp).
#
# Two-stage fpc: svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2) against the
# ultimate-cluster design svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw): the mean of api00
# and the total of enroll with both SEs (cases twostage:*), to record what the second stage adds.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
rows <- list()
add <- function(case, domain, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, domain = domain, quantity = quantity,
                                          value = fmt(as.numeric(value)), stringsAsFactors = FALSE)
}

apiclus2 <- read.csv("apiclus2.csv")
apistrat <- read.csv("apistrat.csv")
designs <- list(
  clus2 = list(d = svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2),
               by = list(c("stype"), c("stype", "comp.imp"))),
  strat = list(d = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
               by = list(c("comp.imp"), c("stype", "comp.imp")))
)
methods <- c("beta", "logit", "asin", "mean", "xlogit")
for (name in names(designs)) {
  d <- designs[[name]]$d
  dat <- d$variables
  for (by in designs[[name]]$by) {
    key <- interaction(dat[by], sep = "|", drop = TRUE)
    for (lev in sort(levels(key))) {
      sub <- d[key == lev, ]
      df <- degf(sub)
      case <- paste0(name, ":", paste(by, collapse = "+"))
      add(case, lev, "df", df)
      add(case, lev, "n", sum(key == lev))
      for (m in methods) {
        ci <- svyciprop(~I(sch.wide == "Yes"), sub, method = m)
        add(case, lev, paste0("estimate:", m), coef(ci))
        add(case, lev, paste0("ci_low:", m), confint(ci)[1])
        add(case, lev, paste0("ci_high:", m), confint(ci)[2])
      }
    }
  }
}

d2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
d0 <- svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw, data = apiclus2)
for (v in list(c("mean", "api00"), c("total", "enroll"))) {
  f <- if (v[1] == "mean") svymean else svytotal
  a <- f(as.formula(paste0("~", v[2])), d2, na.rm = TRUE)
  b <- f(as.formula(paste0("~", v[2])), d0, na.rm = TRUE)
  add(paste0("twostage:", v[1], ":", v[2]), "all", "estimate", coef(a))
  add(paste0("twostage:", v[1], ":", v[2]), "all", "se_two_stage", SE(a))
  add(paste0("twostage:", v[1], ":", v[2]), "all", "se_ultimate_cluster", SE(b))
}

out <- do.call(rbind, rows)
write.csv(out, "r_domain_df.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session_domain_df.txt")
cat("wrote", nrow(out), "rows\n")
