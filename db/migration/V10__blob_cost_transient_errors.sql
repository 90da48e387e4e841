-- blob_cost kept every failure to count a package, including failures of the store (a blob briefly
-- unreadable) and the size limit (aneforge.matrix.estimate-max-bytes), so one transient error removed a
-- package's estimate for good. The registry now stores only what the package's bytes decide. The stored
-- errors cannot be told apart by their text, so all are dropped: the next matrix that shows such a package
-- counts it once more and stores the outcome again if the content is at fault. Counted costs are kept.
DELETE FROM blob_cost WHERE error IS NOT NULL;
