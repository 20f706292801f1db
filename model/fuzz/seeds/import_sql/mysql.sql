CREATE TABLE `author` (`id` int unsigned NOT NULL AUTO_INCREMENT, `name` varchar(120) NOT NULL,
 `kind` enum('a','b') DEFAULT 'a', PRIMARY KEY (`id`), UNIQUE KEY `name_u` (`name`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `book` (`id` bigint NOT NULL, `author_id` int unsigned, `at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
 PRIMARY KEY (`id`), KEY `ix` (`author_id`), CONSTRAINT `fk` FOREIGN KEY (`author_id`) REFERENCES `author` (`id`) ON DELETE RESTRICT);
